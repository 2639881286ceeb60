/**
 * The `groupDelivery` table: per group and member, how far the member has the group's messages (on at
 * least one of its devices: `position`) and how far each of its devices has acknowledged them
 * (`cursor<deviceId>`: SYNC hands the device what lies after it); and one item per group, the watermark:
 * the lowest member position and how many members stand at it. Every message up to the watermark is with
 * every member, and the sender's "delivered to everyone" tick follows it, so a member's return costs one
 * write (and, for a member at the watermark, one count), not one tally write per message it moved over.
 * That write also keeps the chat-list preview the device sent with its acknowledgement (`preview<deviceId>`),
 * so a group's preview costs no write of its own in `conversations`.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tableName, type Deps } from '../runtime/deps';
import { ifConditionHolds } from './conditional-write';
import { queryAll } from './query-all';
import { batchGet } from './batch-requests';
import { QUEUE_TTL_MS } from './device-queues';

/** Epoch seconds (the TTL attribute) 30 days from now: as long as a group message is kept. */
const expiresFromNow = (deps: Deps) => Math.ceil((deps.now() + QUEUE_TTL_MS) / 1000);

/** The watermark's sort key: not a userId (those are UUIDs), and it has no `position`, so position queries skip it. */
const WATERMARK = '#everyone';

export interface DeliveryWatermark {
  /** The lowest position of any member: every message up to here is with every member. */
  readonly upTo: string;
  /** How many members stand at `upTo`: when the last of them moves on, the watermark is read again. */
  readonly atMin: number;
}

/**
 * Moves the member's position forward to `position`, keeping the item 30 days from now; with `ifHad`,
 * only if it stood at `ifHad` or later (the sender of a message, who had every message before it). Answers
 * the position it had (`''` for none) when it moved, or `undefined` when it was at or past `position`
 * already (a repeated or late acknowledgement moves nothing) or short of `ifHad`.
 */
export async function advanceMemberDelivery(deps: Deps, conversationId: string, userId: string, position: string, ifHad?: string): Promise<string | undefined> {
  const moved = await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'groupDelivery'),
        Key: { conversationId, userId },
        UpdateExpression: 'SET #position = :p, expiresAt = :exp',
        ConditionExpression: ifHad === undefined ? 'attribute_not_exists(#position) OR #position < :p' : '#position >= :had AND #position < :p',
        ExpressionAttributeNames: { '#position': 'position' },
        ExpressionAttributeValues: { ':p': position, ':exp': expiresFromNow(deps), ...(ifHad === undefined ? {} : { ':had': ifHad }) },
        ReturnValues: 'UPDATED_OLD',
      }),
    ),
  );
  return moved ? (((moved.Attributes ?? {}) as { position?: string }).position ?? '') : undefined;
}

/** The member left the group: its position no longer holds the watermark back. Answers the position it had, if any. */
export async function forgetMember(deps: Deps, conversationId: string, userId: string): Promise<string | undefined> {
  const { Attributes } = await deps.clients.db.send(
    new DeleteCommand({ TableName: tableName(deps, 'groupDelivery'), Key: { conversationId, userId }, ReturnValues: 'ALL_OLD' }),
  );
  return (Attributes as { position?: string } | undefined)?.position;
}

/** Every member's position (strongly consistent: the watermark is computed from it). */
export async function memberPositions(deps: Deps, conversationId: string): Promise<{ userId: string; position: string }[]> {
  return queryAll<{ userId: string; position: string }>(deps, {
    TableName: tableName(deps, 'groupDelivery'),
    KeyConditionExpression: 'conversationId = :c',
    FilterExpression: 'attribute_exists(#position)',
    ExpressionAttributeNames: { '#position': 'position' },
    ExpressionAttributeValues: { ':c': conversationId },
    ConsistentRead: true,
  });
}

/** The members who have the group's messages up to `position` at least. */
export async function membersWithDelivered(deps: Deps, conversationId: string, position: string): Promise<string[]> {
  const members = await queryAll<{ userId: string }>(deps, {
    TableName: tableName(deps, 'groupDelivery'),
    KeyConditionExpression: 'conversationId = :c',
    FilterExpression: '#position >= :p',
    ExpressionAttributeNames: { '#position': 'position' },
    ExpressionAttributeValues: { ':c': conversationId, ':p': position },
  });
  return members.map((member) => member.userId);
}

export async function getWatermark(deps: Deps, conversationId: string): Promise<DeliveryWatermark | undefined> {
  const { Item } = await deps.clients.db.send(new GetCommand({ TableName: tableName(deps, 'groupDelivery'), Key: { conversationId, userId: WATERMARK } }));
  return Item as DeliveryWatermark | undefined;
}

/**
 * One member at the watermark `upTo` moved past it: one fewer stands there. Answers how many still do, or
 * `undefined` when the watermark is no longer at `upTo` (it was read again meanwhile: nothing to count).
 */
export async function leaveWatermark(deps: Deps, conversationId: string, upTo: string): Promise<number | undefined> {
  const left = await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'groupDelivery'),
        Key: { conversationId, userId: WATERMARK },
        UpdateExpression: 'ADD atMin :minusOne',
        ConditionExpression: 'upTo = :upTo',
        ExpressionAttributeValues: { ':minusOne': -1, ':upTo': upTo },
        ReturnValues: 'UPDATED_NEW',
      }),
    ),
  );
  return left ? ((left.Attributes ?? {}) as { atMin: number }).atMin : undefined;
}

/**
 * Sets the watermark computed from the members' positions, if it still stands where it was read (`from`,
 * none for a group without one) and only forward: of two recomputations at once, one wins. Answers whether it moved.
 */
export async function moveWatermark(deps: Deps, conversationId: string, from: string | undefined, to: DeliveryWatermark): Promise<boolean> {
  const moved = await ifConditionHolds(
    deps.clients.db.send(
      new PutCommand({
        TableName: tableName(deps, 'groupDelivery'),
        Item: { conversationId, userId: WATERMARK, ...to },
        ConditionExpression: from === undefined ? 'attribute_not_exists(upTo)' : 'upTo = :from',
        ...(from === undefined ? {} : { ExpressionAttributeValues: { ':from': from } }),
      }),
    ),
  );
  return moved !== undefined;
}

/** The attribute of a member's item that holds one of its devices' cursor. */
const cursorOf = (deviceId: number) => `cursor${deviceId}`;
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

/** Where the device and its member stand in a group: the device's cursor and the member's position, if any. */
export interface DeviceStanding {
  readonly cursor?: string;
  readonly memberPosition?: string;
}

/** Where the device stands in each of these groups, by conversationId (strongly consistent: one read per group). */
export async function standingsOfDevice(deps: Deps, userId: string, deviceId: number, conversationIds: readonly string[]): Promise<Map<string, DeviceStanding>> {
  const items = await batchGet<Record<string, string>>(
    deps,
    'groupDelivery',
    conversationIds.map((conversationId) => ({ conversationId, userId })),
    undefined,
    true,
  );
  const attribute = cursorOf(deviceId);
  return new Map(
    items.map((item) => [
      item.conversationId!,
      { ...(item[attribute] !== undefined ? { cursor: item[attribute] } : {}), ...(item.position !== undefined ? { memberPosition: item.position } : {}) },
    ]),
  );
}

/**
 * The device acknowledged the group's messages up to `position`: its cursor moves there, and its member's
 * position too when no other device of the member was further, in one write, kept 30 days from now.
 * `memberHad`: the position the member had (`''` for none) when that moved too, else `undefined`.
 * `moved`: false when the device's cursor was at or past `position` already (a repeat, a late retry).
 * `memberAhead`: the member's position was read at or past `position` (positions only grow).
 * `preview`: of the message at `position`, kept with the cursor when it moves (the device's preview is
 * then of its newest message); a cursor that does not move keeps the preview it had.
 */
export async function advanceDeviceCursor(
  deps: Deps,
  conversationId: string,
  userId: string,
  deviceId: number,
  position: string,
  memberAhead = false,
  preview?: Omit<GroupPreview, 'storedAt'>,
): Promise<{ moved: boolean; memberHad?: string }> {
  const update = (withMember: boolean) =>
    ifConditionHolds(
      deps.clients.db.send(
        new UpdateCommand({
          TableName: tableName(deps, 'groupDelivery'),
          Key: { conversationId, userId },
          UpdateExpression: `SET #cursor = :p, expiresAt = :exp${withMember ? ', #position = :p' : ''}${preview ? ', #preview = :preview' : ''}`,
          ConditionExpression: `(attribute_not_exists(#cursor) OR #cursor < :p)${withMember ? ' AND (attribute_not_exists(#position) OR #position < :p)' : ''}`,
          ExpressionAttributeNames: {
            '#cursor': cursorOf(deviceId),
            ...(withMember ? { '#position': 'position' } : {}),
            ...(preview ? { '#preview': previewOf(deviceId) } : {}),
          },
          ExpressionAttributeValues: { ':p': position, ':exp': expiresFromNow(deps), ...(preview ? { ':preview': { ...preview, storedAt: deps.now() } } : {}) },
          ReturnValues: 'UPDATED_OLD',
        }),
      ),
    );
  // A failed condition is billed as a write: the member's position, when known to be ahead, is not tried.
  const both = memberAhead ? undefined : await update(true);
  if (both) return { moved: true, memberHad: ((both.Attributes ?? {}) as { position?: string }).position ?? '' };
  // Another device of the member was further (or this one was): move the device's cursor alone.
  return { moved: (await update(false)) !== undefined };
}
