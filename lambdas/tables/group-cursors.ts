/**
 * The `groupCursors` table: per device, the position of each group's timeline up to which it has
 * acknowledged the group's messages. What lies after it is what the device still has to get.
 */
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tableName, type Deps } from '../runtime/deps';
import { ifConditionHolds } from './conditional-write';
import { QUEUE_TTL_MS, queueOf } from './device-queues';

export interface GroupCursor {
  /** `${userId}#${deviceId}` */
  readonly device: string;
  readonly conversationId: string;
  /** Timeline position of the last message acknowledged (with every one before it). */
  readonly position: string;
  /** Epoch seconds (the table's TTL attribute): a cursor older than every timeline item means nothing. */
  readonly expiresAt: number;
}

/** The device's cursor in each group it acknowledged something of, by conversationId. */
export async function cursorsOfDevice(deps: Deps, userId: string, deviceId: number): Promise<Map<string, string>> {
  const cursors = new Map<string, string>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await deps.clients.db.send(
      new QueryCommand({
        TableName: tableName(deps, 'groupCursors'),
        KeyConditionExpression: 'device = :d',
        ExpressionAttributeValues: { ':d': queueOf(userId, deviceId) },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of (page.Items ?? []) as GroupCursor[]) cursors.set(item.conversationId, item.position);
    start = page.LastEvaluatedKey;
  } while (start);
  return cursors;
}

/**
 * Moves the device's cursor forward to `position`. Answers the position it had (`''` for none) when it
 * moved, or `undefined` when it was at or past `position` already: a repeated or late acknowledgement
 * moves nothing and is answered as such, so its receipts are not sent twice.
 */
export async function advanceCursor(deps: Deps, userId: string, deviceId: number, conversationId: string, position: string): Promise<string | undefined> {
  const moved = await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'groupCursors'),
        Key: { device: queueOf(userId, deviceId), conversationId },
        UpdateExpression: 'SET #position = :p, expiresAt = :exp',
        ConditionExpression: 'attribute_not_exists(#position) OR #position < :p',
        ExpressionAttributeNames: { '#position': 'position' },
        ExpressionAttributeValues: { ':p': position, ':exp': Math.ceil((deps.now() + QUEUE_TTL_MS) / 1000) },
        ReturnValues: 'UPDATED_OLD',
      }),
    ),
  );
  if (!moved) return undefined;
  return ((moved.Attributes ?? {}) as Partial<GroupCursor>).position ?? '';
}
