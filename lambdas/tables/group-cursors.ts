/**
 * The `groupCursors` table: per device, the position of each group's timeline up to which it has
 * acknowledged the group's messages. What lies after it is what the device still has to get.
 */
import { tableName, type Deps } from '../runtime/deps';
import { advancePosition } from './advance-position';
import { queryAll } from './query-all';
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
  const cursors = await queryAll<GroupCursor>(deps, {
    TableName: tableName(deps, 'groupCursors'),
    KeyConditionExpression: 'device = :d',
    ExpressionAttributeValues: { ':d': queueOf(userId, deviceId) },
    ConsistentRead: true,
  });
  return new Map(cursors.map((cursor) => [cursor.conversationId, cursor.position]));
}

/** Moves the device's cursor forward to `position` (see `advancePosition`): the position it had, or `undefined`. */
export const advanceCursor = (deps: Deps, userId: string, deviceId: number, conversationId: string, position: string) =>
  advancePosition(deps, 'groupCursors', { device: queueOf(userId, deviceId), conversationId }, position);
