/**
 * The `groupTimeline` table: per group conversation, one item per message in the group's order. It holds
 * the message once for every member device: live devices get it pushed, the others read it at SYNC after
 * their cursor (kept in `groupDelivery`). A member's chat list reads the group's last activity and its own unread
 * count from it, so a group message costs one write here instead of one write per member device.
 */
import { PutCommand, QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { PushFrame } from '../protocol/frames';
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
  /** Epoch seconds (the table's TTL attribute): kept as long as a message may wait in a queue. */
  readonly expiresAt: number;
  /** The group's version the message was sent to: a member who joined at a later version never gets it. */
  readonly groupVersion?: number;
  /** The PUSH every member device gets; absent on items written before the timeline held messages. */
  readonly frame?: PushFrame;
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

/** Adds the message; its content is fixed by its key, so a redelivered record writes the same item. */
export async function appendToTimeline(deps: Deps, entry: TimelineEntry): Promise<void> {
  await deps.clients.db.send(new PutCommand({ TableName: tableName(deps, 'groupTimeline'), Item: { ...entry } }));
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
  const entries = (Items as TimelineEntry[]).filter((entry) => entry.position !== after && entry.expiresAt > nowSeconds);
  return { entries, ...(LastEvaluatedKey ? { next: (LastEvaluatedKey as Pick<TimelineEntry, 'position'>).position } : {}) };
}

/** The group's newest entry; `consistent` for the fanout, which orders the next one after it. */
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
  return Items[0] as TimelineEntry | undefined;
}

/** How many messages others sent after `position` (all of them without one): a member's unread count. */
export async function countSentAfter(deps: Deps, conversationId: string, position: string | undefined, reader: string): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page: QueryCommandOutput = await deps.clients.db.send(
      new QueryCommand({
        TableName: tableName(deps, 'groupTimeline'),
        KeyConditionExpression: position ? 'conversationId = :c AND #position > :p' : 'conversationId = :c',
        FilterExpression: '#from <> :reader',
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
