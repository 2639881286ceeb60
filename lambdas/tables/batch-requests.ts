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

/** What a BatchGetItem asks of one table's items besides their keys. */
const readOptions = (projection: string | readonly string[] | undefined, consistent: boolean | undefined) => ({
  ...projectionOf(projection),
  ...(consistent ? { ConsistentRead: true } : {}),
});

type BatchGetRequest = NonNullable<BatchGetCommandOutput['UnprocessedKeys']>;

/**
 * The items one BatchGetItem request finds (at most 100 keys, of one table or several), by table name,
 * asking again for the keys DynamoDB leaves unprocessed until none is left.
 */
async function batchGetUntilProcessed(deps: Deps, request: BatchGetRequest): Promise<Map<string, Record<string, unknown>[]>> {
  const found = new Map<string, Record<string, unknown>[]>(Object.keys(request).map((name) => [name, []]));
  let pending: BatchGetRequest | undefined = request;
  while (pending && Object.values(pending).some((table) => table.Keys?.length)) {
    const answer: BatchGetCommandOutput = await deps.clients.db.send(new BatchGetCommand({ RequestItems: pending }));
    for (const [name, items] of Object.entries(answer.Responses ?? {})) found.get(name)?.push(...items);
    pending = answer.UnprocessedKeys;
  }
  return found;
}

/** The items that exist of `keys`, in no particular order; eventually consistent, as a fan-out may be, unless `consistent`. */
export async function batchGet<T>(deps: Deps, table: TableId, keys: readonly Record<string, unknown>[], projection?: string | readonly string[], consistent = false): Promise<T[]> {
  const name = tableName(deps, table);
  const read = readOptions(projection, consistent);
  const pages = await mapConcurrently(chunks(keys, GET_KEYS), CONCURRENT_CALLS, async (chunk) => (await batchGetUntilProcessed(deps, { [name]: { Keys: chunk, ...read } })).get(name) as T[]);
  return pages.flat();
}

/** One table's part of a read of several tables: its keys, what to read of each item, and what the caller makes of the items found. */
export interface TableRead<T> {
  readonly table: TableId;
  readonly keys: readonly Record<string, unknown>[];
  readonly projection?: string | readonly string[];
  readonly consistent?: boolean;
  readonly answer: (items: Record<string, unknown>[]) => T;
}

type Answers<R extends readonly TableRead<unknown>[]> = { -readonly [K in keyof R]: R[K] extends TableRead<infer T> ? T : never };

/**
 * The reads of different tables in one BatchGetItem (asking again for what DynamoDB leaves unprocessed),
 * while their keys fit one call; else each table's on its own (`batchGet`). Billed the same either way,
 * per item: what one request instead of several saves is a request's CPU and round trip, on the route
 * that reads it most (a group DELIVERED, once per live PUSH).
 *
 * @example
 * const [rows, cursors] = await batchGetTogether(deps, [groupWindowRowsRead(userId, ids), deviceCursorsRead(userId, deviceId, ids)] as const);
 */
export async function batchGetTogether<R extends readonly TableRead<unknown>[]>(deps: Deps, reads: R): Promise<Answers<R>> {
  const tables = new Set(reads.map((read) => read.table));
  const keyCount = reads.reduce((sum, read) => sum + read.keys.length, 0);
  if (tables.size < reads.length || keyCount > GET_KEYS) {
    return (await Promise.all(reads.map(async (read) => read.answer(await batchGet(deps, read.table, read.keys, read.projection, read.consistent))))) as Answers<R>;
  }
  const names = reads.map((read) => tableName(deps, read.table));
  const found = await batchGetUntilProcessed(
    deps,
    Object.fromEntries(reads.flatMap((read, i) => (read.keys.length ? [[names[i]!, { Keys: [...read.keys], ...readOptions(read.projection, read.consistent) }]] : []))),
  );
  return reads.map((read, i) => read.answer(found.get(names[i]!) ?? [])) as Answers<R>;
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
