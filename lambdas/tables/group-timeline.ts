/**
 * The `groupTimeline` table: per group conversation, one item per message in the group's order. It holds
 * the message once for every member device: live devices get it pushed, the others read it at SYNC after
 * their cursor (kept in `groupDelivery`). A member's chat list reads the group's last activity and its own unread
 * count from it, so a group message costs one write here instead of one write per member device.
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { PushFrame } from '../protocol/frames';
import { ifConditionHolds } from './conditional-write';
import { tableName, type Deps } from '../runtime/deps';

export interface TimelineEntry {
  readonly conversationId: string;
  /**
   * `${orderTs}#${msgId}`: the group's order, which is the order the fanout appended in (see
   * `nextPosition`), and the PUSH's `cursor`.
   */
  readonly position: string;
  readonly msgId: string;
  /** The sender's userId: a member's own messages are never unread to it. */
  readonly from: string;
  readonly serverTs: number;
  /**
   * Epoch seconds (the table's TTL attribute): kept as long as a message may wait in a queue, or less when
   * the message disappears sooner (`expiresInSeconds`). Past it, SYNC hands it to no device.
   */
  readonly expiresAt: number;
  /** The group's version the message was sent to: a member who joined at a later version never gets it. */
  readonly groupVersion?: number;
  /**
   * The PUSH every member device gets; absent on items written before the timeline held messages, and
   * removed when the message is deleted for everyone (no device reads it after that).
   */
  readonly frame?: PushFrame;
  /** An action on the chat (GROUP_SEND `control`): handed to devices, but no activity, unread, preview or ticks. */
  readonly control?: true;
  /** Deleted for everyone: handed to no device any more, no longer unread, and its preview is shown to nobody. */
  readonly revoked?: true;
}

/**
 * The position for a message appended now: after the group's latest, even when its `serverTs` is older
 * (stream order is not stamp order across sending Lambdas). Appends run in stream order, one at a time
 * per group, so positions only grow, and a device that has read up to a position never finds an item
 * appended before it later.
 */
export function nextPosition(latest: Pick<TimelineEntry, 'position'> | undefined, serverTs: number, msgId: string): string {
  const latestTs = latest ? Number(latest.position.slice(0, latest.position.indexOf('#'))) : 0;
  return `${String(Math.max(serverTs, latestTs + 1)).padStart(13, '0')}#${msgId}`;
}

/** A PUSH as an item stores it: without what the item holds already, and its sender's device alone. */
type StoredFrame = Omit<PushFrame, 'msgId' | 'conversationId' | 'from' | 'serverTs' | 'cursor'> & { readonly fromDevice: number };
/** An item as stored: its PUSH in full (items stored before the PUSH was kept short) or short. */
type StoredEntry = Omit<TimelineEntry, 'frame'> & { readonly frame?: PushFrame | StoredFrame };

/**
 * The item of an entry: its PUSH without the msgId, conversationId, sender's userId, serverTs and cursor
 * the item holds already (some 200 of a typical entry's 760 bytes), so that a SYNC's read, billed per
 * 4 KB, takes more entries per read unit. A PUSH that does not match its entry is kept whole.
 */
function storedOf(entry: TimelineEntry): StoredEntry {
  if (!entry.frame) return entry;
  const { msgId, conversationId, from, serverTs, cursor, ...rest } = entry.frame;
  const matches = msgId === entry.msgId && conversationId === entry.conversationId && from.userId === entry.from && serverTs === entry.serverTs && cursor === entry.position;
  return matches ? { ...entry, frame: { ...rest, fromDevice: from.deviceId } } : entry;
}

/** The entry of an item, its PUSH whole again. */
function entryOf(item: StoredEntry): TimelineEntry {
  const { frame } = item;
  if (!frame || !('fromDevice' in frame)) return item as TimelineEntry;
  const { fromDevice, ...rest } = frame;
  return {
    ...item,
    frame: { ...rest, msgId: item.msgId, conversationId: item.conversationId, from: { userId: item.from, deviceId: fromDevice }, serverTs: item.serverTs, cursor: item.position },
  };
}

/**
 * Adds the message; its content is fixed by its key, so a redelivered record writes the same item, unless
 * a REVOKE withdrew it meanwhile: that stays withdrawn.
 */
export async function appendToTimeline(deps: Deps, entry: TimelineEntry): Promise<void> {
  await ifConditionHolds(
    deps.clients.db.send(new PutCommand({ TableName: tableName(deps, 'groupTimeline'), Item: { ...storedOf(entry) }, ConditionExpression: 'attribute_not_exists(revoked)' })),
  );
}

/**
 * Up to `limit` entries after `after` and at most `upTo` (both optional), in order, strongly consistent:
 * what a device reads at SYNC, or acknowledges with a cursor. `next` is where the read stopped when
 * more may follow.
 */
export async function readTimeline(
  deps: Deps,
  conversationId: string,
  range: { after?: string; upTo?: string; limit: number },
): Promise<{ entries: TimelineEntry[]; next?: string }> {
  const { after, upTo, limit } = range;
  const bounds = after !== undefined && upTo !== undefined ? ' AND #position BETWEEN :after AND :upTo' : after !== undefined ? ' AND #position > :after' : upTo !== undefined ? ' AND #position <= :upTo' : '';
  const { Items = [], LastEvaluatedKey } = await deps.clients.db.send(
    new QueryCommand({
      TableName: tableName(deps, 'groupTimeline'),
      KeyConditionExpression: `conversationId = :c${bounds}`,
      ...(bounds ? { ExpressionAttributeNames: { '#position': 'position' } } : {}),
      ExpressionAttributeValues: { ':c': conversationId, ...(after !== undefined ? { ':after': after } : {}), ...(upTo !== undefined ? { ':upTo': upTo } : {}) },
      ConsistentRead: true,
      Limit: limit,
    }),
  );
  const nowSeconds = deps.now() / 1000;
  // BETWEEN includes `after`: it is the item the reader has already.
  const entries = (Items as StoredEntry[]).filter((entry) => entry.position !== after && entry.expiresAt > nowSeconds).map(entryOf);
  return { entries, ...(LastEvaluatedKey ? { next: (LastEvaluatedKey as Pick<TimelineEntry, 'position'>).position } : {}) };
}

/**
 * Withdraws the message at `position` (deleted for everyone): marked revoked, its PUSH removed, so SYNC
 * hands it to no device that has not read it yet. True when this call withdrew it; false when the timeline
 * has no such entry (the fan-out has not run yet) or it was withdrawn before.
 */
export async function withdrawFromTimeline(deps: Deps, conversationId: string, position: string): Promise<boolean> {
  const withdrawn = await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'groupTimeline'),
        Key: { conversationId, position },
        UpdateExpression: 'SET revoked = :true REMOVE #frame',
        ConditionExpression: 'attribute_exists(conversationId) AND attribute_not_exists(revoked)',
        ExpressionAttributeNames: { '#frame': 'frame' },
        ExpressionAttributeValues: { ':true': true },
      }),
    ),
  );
  return withdrawn !== undefined;
}

export async function entryAt(deps: Deps, conversationId: string, position: string): Promise<TimelineEntry | undefined> {
  const { Item } = await deps.clients.db.send(new GetCommand({ TableName: tableName(deps, 'groupTimeline'), Key: { conversationId, position } }));
  return Item && entryOf(Item as StoredEntry);
}

/** Entries one look for the newest activity reads per page: actions (`control`) rarely come in long runs. */
const ACTIVITY_PAGE = 10;

/** The group's newest message that is activity (not an action): what a member's chat list shows. */
export async function latestActivity(deps: Deps, conversationId: string): Promise<TimelineEntry | undefined> {
  let start: Record<string, unknown> | undefined;
  do {
    const page: QueryCommandOutput = await deps.clients.db.send(
      new QueryCommand({
        TableName: tableName(deps, 'groupTimeline'),
        KeyConditionExpression: 'conversationId = :c',
        FilterExpression: 'attribute_not_exists(control)',
        ExpressionAttributeValues: { ':c': conversationId },
        ScanIndexForward: false,
        Limit: ACTIVITY_PAGE,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    if (page.Items?.length) return entryOf(page.Items[0] as StoredEntry);
    start = page.LastEvaluatedKey;
  } while (start);
  return undefined;
}

/** The group's newest entry, actions included; `consistent` for the fanout, which orders the next one after it. */
export async function latestEntry(deps: Deps, conversationId: string, consistent = false): Promise<TimelineEntry | undefined> {
  const { Items = [] } = await deps.clients.db.send(
    new QueryCommand({
      TableName: tableName(deps, 'groupTimeline'),
      KeyConditionExpression: 'conversationId = :c',
      ExpressionAttributeValues: { ':c': conversationId },
      ConsistentRead: consistent,
      ScanIndexForward: false,
      Limit: 1,
    }),
  );
  return Items[0] && entryOf(Items[0] as StoredEntry);
}

/** How many messages others sent after `position` (all of them without one), not actions, not deleted for everyone: a member's unread count. */
export async function countSentAfter(deps: Deps, conversationId: string, position: string | undefined, reader: string): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page: QueryCommandOutput = await deps.clients.db.send(
      new QueryCommand({
        TableName: tableName(deps, 'groupTimeline'),
        KeyConditionExpression: position ? 'conversationId = :c AND #position > :p' : 'conversationId = :c',
        FilterExpression: '#from <> :reader AND attribute_not_exists(revoked) AND attribute_not_exists(control)',
        ExpressionAttributeNames: { '#from': 'from', ...(position ? { '#position': 'position' } : {}) },
        ExpressionAttributeValues: { ':c': conversationId, ':reader': reader, ...(position ? { ':p': position } : {}) },
        Select: 'COUNT',
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
}
