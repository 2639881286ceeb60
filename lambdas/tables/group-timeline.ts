/**
 * The `groupTimeline` table: per group conversation, one small item per message in server order. A
 * member's chat list reads the group's last activity and its own unread count from it, so a group
 * message costs one write here instead of one chat-list write per member.
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { ifConditionHolds } from './conditional-write';
import { tableName, type Deps } from '../runtime/deps';

export interface TimelineEntry {
  readonly conversationId: string;
  /** The message's queue position, `${serverTs}#${msgId}`: server order. */
  readonly position: string;
  readonly msgId: string;
  /** The sender's userId: a member's own messages are never unread to it. */
  readonly from: string;
  readonly serverTs: number;
  /** Epoch seconds (the table's TTL attribute): kept as long as a message may wait in a queue. */
  readonly expiresAt: number;
  /** Deleted for everyone: no longer unread, and its preview is shown to nobody. */
  readonly revoked?: true;
}

/** Adds the message; its content is fixed by its key, so a redelivered record writes the same item. */
export async function appendToTimeline(deps: Deps, entry: TimelineEntry): Promise<void> {
  await deps.clients.db.send(new PutCommand({ TableName: tableName(deps, 'groupTimeline'), Item: { ...entry } }));
}

/** Marks the message at `position` deleted for everyone; nothing when the timeline has no such entry. */
export async function markRevokedInTimeline(deps: Deps, conversationId: string, position: string): Promise<void> {
  await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'groupTimeline'),
        Key: { conversationId, position },
        UpdateExpression: 'SET revoked = :true',
        ConditionExpression: 'attribute_exists(conversationId)',
        ExpressionAttributeValues: { ':true': true },
      }),
    ),
  );
}

export async function entryAt(deps: Deps, conversationId: string, position: string): Promise<TimelineEntry | undefined> {
  const { Item } = await deps.clients.db.send(new GetCommand({ TableName: tableName(deps, 'groupTimeline'), Key: { conversationId, position } }));
  return Item as TimelineEntry | undefined;
}

export async function latestEntry(deps: Deps, conversationId: string): Promise<TimelineEntry | undefined> {
  const { Items = [] } = await deps.clients.db.send(
    new QueryCommand({
      TableName: tableName(deps, 'groupTimeline'),
      KeyConditionExpression: 'conversationId = :c',
      ExpressionAttributeValues: { ':c': conversationId },
      ScanIndexForward: false,
      Limit: 1,
    }),
  );
  return Items[0] as TimelineEntry | undefined;
}

/** How many messages others sent after `position` (all of them without one), not deleted for everyone: a member's unread count. */
export async function countSentAfter(deps: Deps, conversationId: string, position: string | undefined, reader: string): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page: QueryCommandOutput = await deps.clients.db.send(
      new QueryCommand({
        TableName: tableName(deps, 'groupTimeline'),
        KeyConditionExpression: position ? 'conversationId = :c AND #position > :p' : 'conversationId = :c',
        FilterExpression: '#from <> :reader AND attribute_not_exists(revoked)',
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
