/**
 * The `groupDelivery` table: per group and member, how far each of its devices has acknowledged the
 * group's messages (`cursor<deviceId>`: SYNC hands the device what lies after it) and how far the member
 * has them without a device's acknowledgement (`position`: the change that added it, its own messages);
 * the member's position is the furthest of these (see `memberPositionOf`), so a device's acknowledgement
 * moves it with the one write that moves the device's cursor, whichever of the member's devices is
 * ahead; and one item per group, the watermark:
 * the lowest member position and how many members stand at it. Every message up to the watermark is with
 * every member, and the sender's "delivered to everyone" tick follows it, so a member's return costs one
 * write (and, for a member at the watermark, one count), not one tally write per message it moved over.
 * A member the watermark counted carries the position it was counted at (`countedAt`), so that the write
 * that moves it on tells, from the item it replaced, whether it stood at the watermark: a member past it
 * (nearly every one in a large group) moves on without reading the watermark.
 * That write also keeps the chat-list preview the device sent with its acknowledgement (`preview<deviceId>`),
 * so a group's preview costs no write of its own in `conversations`.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tableName, type Deps } from '../runtime/deps';
import { ifConditionHolds } from './conditional-write';
import { queryAll } from './query-all';
import { batchGet, batchGetTogether, type TableRead } from './batch-requests';
import { QUEUE_TTL_MS } from './device-queues';
import { mapConcurrently } from '../runtime/concurrency';

/** Epoch seconds (the TTL attribute) 30 days from now: as long as a group message is kept. */
const expiresFromNow = (deps: Deps) => Math.ceil((deps.now() + QUEUE_TTL_MS) / 1000);

/** The watermark's sort key: not a userId (those are UUIDs); queries of the members' positions leave it out. */
const WATERMARK = '#everyone';

export interface DeliveryWatermark {
  /** The lowest position of any member: every message up to here is with every member. */
  readonly upTo: string;
  /** How many members stand at `upTo`: when the last of them moves on, the watermark is read again. */
  readonly atMin: number;
  /** When it was computed (epoch ms); none on a watermark from before this was kept. */
  readonly setAt?: number;
}

/** The attribute of a member's item that holds one of its devices' cursor. */
const cursorOf = (deviceId: number) => `cursor${deviceId}`;
const CURSOR_ATTRIBUTE = /^cursor\d+$/;

/**
 * How far the member has the group's messages, from its item: the furthest of its `position` and its
 * devices' cursors (every attribute only grows, so the furthest does too); `''` for none.
 */
export function memberPositionOf(item: Record<string, unknown> | undefined): string {
  if (!item) return '';
  return Object.entries(item)
    .filter(([name, value]) => (name === 'position' || CURSOR_ATTRIBUTE.test(name)) && typeof value === 'string')
    .reduce((furthest, [, value]) => ((value as string) > furthest ? (value as string) : furthest), '');
}

/** The attribute of a member's item naming the watermark position it was counted at (see `markCounted`). */
const COUNTED_AT = 'countedAt';

/** A member's position moved on (or the member left). */
export interface MemberMove {
  /** The position it had (`''` for none). */
  readonly had: string;
  /** Whether a watermark counted the member at `had`: only then may its moving on complete one. */
  readonly counted: boolean;
}

/** What the item a write replaced (`ALL_OLD`) tells of the member's move. */
const moveOf = (old: Record<string, unknown> | undefined): MemberMove => {
  const had = memberPositionOf(old);
  return { had, counted: old?.[COUNTED_AT] === had };
};

/** The member's move from the item a write that moved it to `position` replaced, if the write moved it. */
const movedFrom = (old: Record<string, unknown> | undefined, position: string): MemberMove | undefined => {
  const move = moveOf(old);
  return move.had < position ? move : undefined;
};

/** How a member's position moves (see `advanceMemberDelivery`). */
export interface MemberAdvance {
  /** Only if it had a position and stood at `ifHad` or later (the sender of a message, who had every message before it). */
  readonly ifHad?: string;
  /**
   * The member joins at `position`, and is marked counted there in the same write (see `markCounted`): a
   * group's first watermark, which stands at its creation, then writes no mark per member. Safe before
   * any watermark counts the member there: moving on from a mark no watermark stands at counts nothing
   * (the count's condition is false), and from one a watermark did not count makes the count short at
   * most, which has it computed again early, never late.
   */
  readonly joining?: boolean;
}

/**
 * Moves the member's position forward to `position`, keeping the item 30 days from now (see
 * {@link MemberAdvance}). Answers its move when it moved, or `undefined` when it was at or past `position`
 * already (a repeated or late acknowledgement moves nothing) or short of `ifHad`.
 */
export async function advanceMemberDelivery(
  deps: Deps,
  conversationId: string,
  userId: string,
  position: string,
  { ifHad, joining = false }: MemberAdvance = {},
): Promise<MemberMove | undefined> {
  if (ifHad !== undefined) {
    // The member's position is the furthest of several attributes, which no condition can compare: it is
    // read first. A position only grows, so one read at `ifHad` or later still is when the write lands.
    const had = memberPositionOf(await getMember(deps, conversationId, userId));
    if (had === '' || had < ifHad || had >= position) return undefined;
  }
  const moved = await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'groupDelivery'),
        Key: { conversationId, userId },
        UpdateExpression: `SET #position = :p, expiresAt = :exp${joining ? ', #counted = :p' : ''}`,
        ConditionExpression: 'attribute_not_exists(#position) OR #position < :p',
        ExpressionAttributeNames: { '#position': 'position', ...(joining ? { '#counted': COUNTED_AT } : {}) },
        ExpressionAttributeValues: { ':p': position, ':exp': expiresFromNow(deps) },
        ReturnValues: 'ALL_OLD',
      }),
    ),
  );
  return moved ? movedFrom(moved.Attributes, position) : undefined;
}

/** The member's item, strongly consistent. */
async function getMember(deps: Deps, conversationId: string, userId: string): Promise<Record<string, unknown> | undefined> {
  const { Item } = await deps.clients.db.send(new GetCommand({ TableName: tableName(deps, 'groupDelivery'), Key: { conversationId, userId }, ConsistentRead: true }));
  return Item;
}

/**
 * The member left the group: its position no longer holds the watermark back. Answers its move from the
 * position it had, `''` for none (a member of a group from before positions were kept, which a watermark
 * counts at `''`).
 */
export async function forgetMember(deps: Deps, conversationId: string, userId: string): Promise<MemberMove> {
  const { Attributes } = await deps.clients.db.send(
    new DeleteCommand({ TableName: tableName(deps, 'groupDelivery'), Key: { conversationId, userId }, ReturnValues: 'ALL_OLD' }),
  );
  return moveOf(Attributes);
}

/** Marks written at once: a recomputation may count many members (every member of a group from before the marks). */
const MARK_CONCURRENCY = 32;

/**
 * The watermark at `upTo` counted these members there: each carries it, so that the write that moves it
 * on (or deletes it) tells it was counted. Made with the item if the member has none (a member with no
 * position, counted at `''`), kept 30 days as the member's other attributes are.
 */
export async function markCounted(deps: Deps, conversationId: string, userIds: readonly string[], upTo: string): Promise<void> {
  await mapConcurrently(userIds, MARK_CONCURRENCY, (userId) =>
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'groupDelivery'),
        Key: { conversationId, userId },
        UpdateExpression: 'SET #counted = :upTo, expiresAt = if_not_exists(expiresAt, :exp)',
        ExpressionAttributeNames: { '#counted': COUNTED_AT },
        ExpressionAttributeValues: { ':upTo': upTo, ':exp': expiresFromNow(deps) },
      }),
    ),
  );
}

/** Every member item of the group (not the watermark), as read by `consistent` or not. */
const memberItems = async (deps: Deps, conversationId: string, consistent: boolean) =>
  (
    await queryAll<Record<string, unknown> & { userId: string }>(deps, {
      TableName: tableName(deps, 'groupDelivery'),
      KeyConditionExpression: 'conversationId = :c',
      ExpressionAttributeValues: { ':c': conversationId },
      ...(consistent ? { ConsistentRead: true } : {}),
    })
  ).filter((item) => item.userId !== WATERMARK);

/** Where a member stands, from its item. */
export interface MemberStanding {
  /** Its position, `''` for none. */
  readonly position: string;
  /** The watermark position it was last counted at, if any. */
  readonly countedAt?: string;
}

/** Every member that has an item, by userId (strongly consistent: the watermark is computed from it). */
export async function memberStandings(deps: Deps, conversationId: string): Promise<Map<string, MemberStanding>> {
  return new Map(
    (await memberItems(deps, conversationId, true)).map((item) => {
      const countedAt = item[COUNTED_AT];
      return [item.userId, { position: memberPositionOf(item), ...(typeof countedAt === 'string' ? { countedAt } : {}) }];
    }),
  );
}

/** The members who have the group's messages up to `position` at least. */
export async function membersWithDelivered(deps: Deps, conversationId: string, position: string): Promise<string[]> {
  return (await memberItems(deps, conversationId, false)).filter((item) => memberPositionOf(item) >= position).map((item) => item.userId);
}

/**
 * The group's watermark, eventually consistent: it is read only to find one missing or standing too long
 * (see `checkWatermark`), and a stale answer only has it computed again, which is safe at any time.
 */
export async function getWatermark(deps: Deps, conversationId: string): Promise<DeliveryWatermark | undefined> {
  const { Item } = await deps.clients.db.send(new GetCommand({ TableName: tableName(deps, 'groupDelivery'), Key: { conversationId, userId: WATERMARK } }));
  return Item as DeliveryWatermark | undefined;
}

/**
 * `members` (one unless told) at the watermark `upTo` moved past it: that many fewer stand there. Answers
 * the watermark after the count (`atMin`: how many still do), or `undefined` when the watermark is no
 * longer at `upTo` (it was read again meanwhile: nothing to count).
 */
export async function leaveWatermark(deps: Deps, conversationId: string, upTo: string, members = 1): Promise<DeliveryWatermark | undefined> {
  const left = await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'groupDelivery'),
        Key: { conversationId, userId: WATERMARK },
        UpdateExpression: 'ADD atMin :minusLeft',
        ConditionExpression: 'upTo = :upTo',
        ExpressionAttributeValues: { ':minusLeft': -members, ':upTo': upTo },
        // The whole (small) item, billed as the write is: its `setAt` too (see `memberMovedOn`).
        ReturnValues: 'ALL_NEW',
      }),
    ),
  );
  return left?.Attributes as DeliveryWatermark | undefined;
}

/**
 * Sets the watermark computed from the members' positions, if it still stands where it was read (`from`,
 * none for a group without one) and only forward: of two recomputations at once, one wins. Answers whether it moved.
 */
export async function moveWatermark(deps: Deps, conversationId: string, from: string | undefined, to: Omit<DeliveryWatermark, 'setAt'>): Promise<boolean> {
  const moved = await ifConditionHolds(
    deps.clients.db.send(
      new PutCommand({
        TableName: tableName(deps, 'groupDelivery'),
        Item: { conversationId, userId: WATERMARK, ...to, setAt: deps.now() },
        ConditionExpression: from === undefined ? 'attribute_not_exists(upTo)' : 'upTo = :from',
        ...(from === undefined ? {} : { ExpressionAttributeValues: { ':from': from } }),
      }),
    ),
  );
  return moved !== undefined;
}

/** The attribute that holds the chat-list preview a device sent with its furthest acknowledgement. */
const previewOf = (deviceId: number) => `preview${deviceId}`;
const PREVIEW_ATTRIBUTE = /^preview\d+$/;

/** A chat-list preview kept with a device's cursor: of the message at the cursor it acknowledged. */
export interface GroupPreview {
  readonly msgId: string;
  readonly serverTs: number;
  readonly ciphertext: string;
  /** When it was stored: of two previews of one message, the first stands. */
  readonly storedAt: number;
}

/**
 * The newest preview the user's devices keep in each of these groups (by serverTs; of two of the same
 * message, the first stored), by conversationId.
 */
export async function memberPreviews(deps: Deps, userId: string, conversationIds: readonly string[]): Promise<Map<string, GroupPreview>> {
  const items = await batchGet<Record<string, unknown>>(deps, 'groupDelivery', conversationIds.map((conversationId) => ({ conversationId, userId })));
  const newest = new Map<string, GroupPreview>();
  for (const item of items) {
    const previews = Object.entries(item).filter(([name]) => PREVIEW_ATTRIBUTE.test(name)).map(([, preview]) => preview as GroupPreview);
    const best = previews.reduce<GroupPreview | undefined>(
      (a, b) => (!a || b.serverTs > a.serverTs || (b.serverTs === a.serverTs && b.storedAt < a.storedAt) ? b : a),
      undefined,
    );
    if (best) newest.set(item.conversationId as string, best);
  }
  return newest;
}

/**
 * The read of the device's cursor in each of these groups where it has one, by conversationId (strongly
 * consistent: one read unit per group). Only the cursor is sent, not the member's other devices' cursors
 * and previews.
 */
export function deviceCursorsRead(userId: string, deviceId: number, conversationIds: readonly string[]): TableRead<Map<string, string>> {
  const attribute = cursorOf(deviceId);
  return {
    table: 'groupDelivery',
    keys: [...new Set(conversationIds)].map((conversationId) => ({ conversationId, userId })),
    projection: ['conversationId', attribute],
    consistent: true,
    answer: (items) => new Map(items.flatMap((item) => (typeof item[attribute] === 'string' ? [[item.conversationId as string, item[attribute]] as const] : []))),
  };
}

/** The device's cursor in each of these groups where it has one, by conversationId (see {@link deviceCursorsRead}). */
export async function cursorsOfDevice(deps: Deps, userId: string, deviceId: number, conversationIds: readonly string[]): Promise<Map<string, string>> {
  const [cursors] = await batchGetTogether(deps, [deviceCursorsRead(userId, deviceId, conversationIds)] as const);
  return cursors;
}

/**
 * The device acknowledged the group's messages up to `position`: its cursor moves there in one write,
 * kept 30 days from now, and with it its member's position, the furthest of its devices' cursors (see
 * `memberPositionOf`), so that the write moves both whichever device of the member is ahead.
 * `moved`: false when the device's cursor was at or past `position` already (a repeat, a late retry).
 * `memberMove`: the member's move when it moved too, from the item the write replaced, so that of two
 * devices of one member acknowledging at once exactly one moves it.
 * `preview`: of the message at `position`, kept with the cursor when it moves (the device's preview is
 * then of its newest message); a cursor that does not move keeps the preview it had.
 */
export async function advanceDeviceCursor(
  deps: Deps,
  conversationId: string,
  userId: string,
  deviceId: number,
  position: string,
  preview?: Omit<GroupPreview, 'storedAt'>,
): Promise<{ moved: boolean; memberMove?: MemberMove }> {
  const moved = await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'groupDelivery'),
        Key: { conversationId, userId },
        UpdateExpression: `SET #cursor = :p, expiresAt = :exp${preview ? ', #preview = :preview' : ''}`,
        ConditionExpression: 'attribute_not_exists(#cursor) OR #cursor < :p',
        ExpressionAttributeNames: { '#cursor': cursorOf(deviceId), ...(preview ? { '#preview': previewOf(deviceId) } : {}) },
        ExpressionAttributeValues: { ':p': position, ':exp': expiresFromNow(deps), ...(preview ? { ':preview': { ...preview, storedAt: deps.now() } } : {}) },
        // The whole item it replaced: the member's position is the furthest of its attributes. Billed by
        // the item's size as the write is, whatever it returns.
        ReturnValues: 'ALL_OLD',
      }),
    ),
  );
  if (!moved) return { moved: false };
  const memberMove = movedFrom(moved.Attributes, position);
  return { moved: true, ...(memberMove !== undefined ? { memberMove } : {}) };
}
