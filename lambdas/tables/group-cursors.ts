/**
 * The `groupCursors` table: per device, the position of each group's timeline up to which it has
 * acknowledged the group's messages. What lies after it is what the device still has to get.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { tableName, type Deps } from '../runtime/deps';
import { advancePosition } from './advance-position';
import { queueOf } from './device-queues';

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

/** Moves the device's cursor forward to `position` (see `advancePosition`): the position it had, or `undefined`. */
export const advanceCursor = (deps: Deps, userId: string, deviceId: number, conversationId: string, position: string) =>
  advancePosition(deps, 'groupCursors', { device: queueOf(userId, deviceId), conversationId }, position);
