import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TableId } from '../resources';
import { tableName, type Deps } from '../runtime/deps';
import { ifConditionHolds } from './conditional-write';
import { QUEUE_TTL_MS } from './device-queues';

/**
 * Moves an item's `position` forward to `position`, keeping it 30 days from now. Answers the position it
 * had (`''` for none) when it moved, or `undefined` when it was at or past `position` already: a repeated
 * or late acknowledgement moves nothing, and whoever moved it is the one to act on the move.
 */
export async function advancePosition(deps: Deps, table: TableId, key: Record<string, string>, position: string): Promise<string | undefined> {
  const moved = await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, table),
        Key: key,
        UpdateExpression: 'SET #position = :p, expiresAt = :exp',
        ConditionExpression: 'attribute_not_exists(#position) OR #position < :p',
        ExpressionAttributeNames: { '#position': 'position' },
        ExpressionAttributeValues: { ':p': position, ':exp': Math.ceil((deps.now() + QUEUE_TTL_MS) / 1000) },
        ReturnValues: 'UPDATED_OLD',
      }),
    ),
  );
  if (!moved) return undefined;
  return ((moved.Attributes ?? {}) as { position?: string }).position ?? '';
}
