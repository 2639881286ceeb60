/**
 * DynamoDB's batch requests for a group's fan-out: BatchGetItem (100 keys a call) and BatchWriteItem (25
 * puts a call), asking again for what DynamoDB leaves unprocessed under load. Calls run with bounded
 * concurrency: 1,024 members make about 50 reads and 80 writes, not thousands of single requests.
 */
import { BatchGetCommand, BatchWriteCommand, type BatchGetCommandOutput, type BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { TableId } from '../resources';
import { mapConcurrently } from '../runtime/concurrency';
import { tableName, type Deps } from '../runtime/deps';

const GET_KEYS = 100;
const PUT_ITEMS = 25;
const CONCURRENT_CALLS = 16;

const chunks = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/**
 * The projection of a read: an expression of attribute names, or a list of names (reserved words among
 * them, such as `connection`, are then given as placeholders).
 */
const projectionOf = (projection: string | readonly string[] | undefined) =>
  projection === undefined
    ? {}
    : typeof projection === 'string'
      ? { ProjectionExpression: projection }
      : { ProjectionExpression: projection.map((_, i) => `#p${i}`).join(', '), ExpressionAttributeNames: Object.fromEntries(projection.map((attribute, i) => [`#p${i}`, attribute])) };

/** The items that exist of `keys`, in no particular order; eventually consistent, as a fan-out may be, unless `consistent`. */
export async function batchGet<T>(deps: Deps, table: TableId, keys: readonly Record<string, unknown>[], projection?: string | readonly string[], consistent = false): Promise<T[]> {
  const name = tableName(deps, table);
  const read = { ...projectionOf(projection), ...(consistent ? { ConsistentRead: true } : {}) };
  const pages = await mapConcurrently(chunks(keys, GET_KEYS), CONCURRENT_CALLS, async (chunk) => {
    const found: T[] = [];
    let pending: Record<string, unknown>[] | undefined = chunk;
    while (pending?.length) {
      const answer: BatchGetCommandOutput = await deps.clients.db.send(
        new BatchGetCommand({ RequestItems: { [name]: { Keys: pending, ...read } } }),
      );
      found.push(...((answer.Responses?.[name] ?? []) as T[]));
      pending = answer.UnprocessedKeys?.[name]?.Keys;
    }
    return found;
  });
  return pages.flat();
}

/**
 * Puts every item, overwriting any with the same key: only for items whose content is fixed by their key,
 * so that writing one again (a retried batch) changes nothing.
 */
export async function batchPut(deps: Deps, table: TableId, items: readonly Record<string, unknown>[]): Promise<void> {
  const name = tableName(deps, table);
  await mapConcurrently(chunks(items, PUT_ITEMS), CONCURRENT_CALLS, async (chunk) => {
    let pending: BatchWriteCommandOutput['UnprocessedItems'] = { [name]: chunk.map((Item) => ({ PutRequest: { Item } })) };
    while (pending?.[name]?.length) {
      const answer: BatchWriteCommandOutput = await deps.clients.db.send(new BatchWriteCommand({ RequestItems: pending }));
      pending = answer.UnprocessedItems;
    }
  });
}
