/**
 * The `oneTimePrekeys` table: each device's pool of one-time prekeys, EC and Kyber, one key per item.
 * A key leaves the pool by one conditional delete that also returns it, so it goes out once and only
 * once, however many fetches race for it.
 */
import { BatchWriteCommand, DeleteCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { KyberPrekey, OneTimePrekey } from '../protocol/keys-api';
import { tableName, type Deps } from '../runtime/deps';
import { ifConditionHolds } from './conditional-write';

export type PrekeyKind = 'ec' | 'kyber';
export const prekeyKinds: readonly PrekeyKind[] = ['ec', 'kyber'];

export interface StoredPrekey {
  /** `${userId}#${deviceId}` */
  readonly device: string;
  /** `${kind}#${keyId, 8 digits}` */
  readonly slot: string;
  readonly keyId: number;
  readonly publicKey: string;
  /** Kyber prekeys only. */
  readonly signature?: string;
}

export const poolOf = (userId: string, deviceId: number) => `${userId}#${deviceId}`;
const slotOf = (kind: PrekeyKind, keyId: number) => `${kind}#${String(keyId).padStart(8, '0')}`;

/** Items per BatchWriteItem, DynamoDB's limit. */
const BATCH_WRITE_ITEMS = 25;
/** Candidates a take reads at once: racing fetches spread over them instead of all wanting the first. */
const TAKE_CANDIDATES = 5;
/** A take that loses this many rounds of races in a row gives up, as if the pool were empty. */
const TAKE_ROUNDS = 20;

type WriteRequest = { PutRequest: { Item: Record<string, unknown> } } | { DeleteRequest: { Key: Record<string, unknown> } };

/** Writes in batches of 25, sending again what DynamoDB left unprocessed (it throttles part of a batch). */
async function batchWrite(deps: Deps, requests: WriteRequest[]): Promise<void> {
  const table = tableName(deps, 'oneTimePrekeys');
  for (let start = 0; start < requests.length; start += BATCH_WRITE_ITEMS) {
    let pending = requests.slice(start, start + BATCH_WRITE_ITEMS);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)));
      const { UnprocessedItems } = await deps.clients.db.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = (UnprocessedItems?.[table] ?? []) as WriteRequest[];
      if (attempt >= 8 && pending.length > 0) throw new Error('DynamoDB left prekey writes unprocessed after 8 retries');
    }
  }
}

/** Stores the keys in the device's pool; a key id stored already gets the key given now. */
export async function putPrekeys(deps: Deps, pool: string, kind: PrekeyKind, keys: readonly (OneTimePrekey | KyberPrekey)[]): Promise<void> {
  await batchWrite(
    deps,
    keys.map((key) => ({ PutRequest: { Item: { device: pool, slot: slotOf(kind, key.keyId), ...key } } })),
  );
}

/** Every page of a query of the pool, following LastEvaluatedKey. */
async function* queryPool(deps: Deps, input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>) {
  let after: Record<string, unknown> | undefined;
  do {
    const page = await deps.clients.db.send(
      new QueryCommand({ ...input, TableName: tableName(deps, 'oneTimePrekeys'), ExclusiveStartKey: after }),
    );
    yield page;
    after = page.LastEvaluatedKey;
  } while (after);
}

const ofKind = (pool: string, kind: PrekeyKind) => ({
  KeyConditionExpression: 'device = :d AND begins_with(slot, :kind)',
  ExpressionAttributeValues: { ':d': pool, ':kind': `${kind}#` },
  ConsistentRead: true,
});

/** The key ids of a kind the pool holds. */
export async function listPrekeyIds(deps: Deps, pool: string, kind: PrekeyKind): Promise<Set<number>> {
  const ids = new Set<number>();
  for await (const page of queryPool(deps, { ...ofKind(pool, kind), ProjectionExpression: 'keyId' })) {
    for (const item of page.Items ?? []) ids.add(item.keyId as number);
  }
  return ids;
}

/**
 * How many keys of a kind the pool holds; with `upTo`, counting stops there (a cheap "at least"): the
 * query reads whole items, and a Kyber key is 1.6 KB.
 */
export async function countPrekeys(deps: Deps, pool: string, kind: PrekeyKind, upTo?: number): Promise<number> {
  let count = 0;
  for await (const page of queryPool(deps, { ...ofKind(pool, kind), Select: 'COUNT', ...(upTo ? { Limit: upTo } : {}) })) {
    count += page.Count ?? 0;
    if (upTo !== undefined && count >= upTo) return upTo;
  }
  return count;
}

/**
 * Takes one key of a kind out of the pool: reads a few candidates, picks one at random and deletes it on
 * the condition that it is still there, which gives it to this caller alone. A caller that loses the
 * race reads again. Racing fetches spread over the candidates, so each round hands out several keys
 * for two requests per fetch. Undefined when the pool has none left (or, after 20 lost races in a row,
 * as if it had none: the bundle then goes without).
 */
export async function takePrekey(deps: Deps, pool: string, kind: PrekeyKind): Promise<StoredPrekey | undefined> {
  const table = tableName(deps, 'oneTimePrekeys');
  for (let round = 0; round < TAKE_ROUNDS; round++) {
    const { Items = [] } = await deps.clients.db.send(
      new QueryCommand({ TableName: table, ...ofKind(pool, kind), ProjectionExpression: 'device, slot', Limit: TAKE_CANDIDATES }),
    );
    if (Items.length === 0) return undefined;
    const key = Items[Math.floor(Math.random() * Items.length)]!;
    // Another take may have won this key: then look again.
    const taken = await ifConditionHolds(
      deps.clients.db.send(new DeleteCommand({ TableName: table, Key: key, ConditionExpression: 'attribute_exists(slot)', ReturnValues: 'ALL_OLD' })),
    );
    if (taken) return taken.Attributes as StoredPrekey;
  }
  return undefined;
}

/** Empties the device's pool: a removed device's keys must not reach anyone, nor its id's next holder. */
export async function deletePool(deps: Deps, pool: string): Promise<void> {
  const keys: WriteRequest[] = [];
  for await (const page of queryPool(deps, {
    KeyConditionExpression: 'device = :d',
    ExpressionAttributeValues: { ':d': pool },
    ProjectionExpression: 'device, slot',
  })) {
    for (const key of page.Items ?? []) keys.push({ DeleteRequest: { Key: key } });
  }
  await batchWrite(deps, keys);
}
