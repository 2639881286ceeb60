import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { ifConditionHolds } from './conditional-write';
import { tables, type TableId } from '../resources';
import { tableName, type Deps } from '../runtime/deps';

/**
 * Writes the item only if no item has its key: the atomic "first writer wins" on which claims, dedupe
 * and idempotent retries rest. Answers false when an item was there already; nothing is overwritten.
 */
export async function putIfAbsent(deps: Deps, table: TableId, item: Record<string, unknown>): Promise<boolean> {
  const written = await ifConditionHolds(
    deps.clients.db.send(
      new PutCommand({
        TableName: tableName(deps, table),
        Item: item,
        ConditionExpression: 'attribute_not_exists(#key)',
        ExpressionAttributeNames: { '#key': tables[table].partitionKey.name },
      }),
    ),
  );
  return written !== undefined;
}
