/**
 * DynamoDB's time to live, for dynalite, which never expires anything: every interval, each table with a
 * TTL attribute is scanned and the items whose expiry (epoch seconds) has passed are deleted, each handed
 * to `onExpired` as a DynamoDB stream would report a TTL deletion. Handlers must still ignore expired
 * items on read, as on AWS, where deletion comes up to days late.
 */
import { DeleteCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tables as parleyTables, type TableDefinition, type TableId } from '../lambdas/resources';

export type Item = Record<string, unknown>;

/** A table the sweeper expires items of. */
export interface TtlTable<Id extends string = string> {
  readonly tableId: Id;
  readonly tableName: string;
  /** The partition key's name, then the sort key's, if any. */
  readonly keyNames: readonly string[];
  /** The attribute holding the expiry, in epoch seconds. */
  readonly ttlAttribute: string;
}

export interface TtlSweeperOptions<Id extends string = string> {
  readonly db: DynamoDBDocumentClient;
  readonly tables: readonly TtlTable<Id>[];
  /** Time between the end of one sweep and the start of the next. */
  readonly intervalMs: number;
  /** The clock, in epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  /** Told of each item the sweeper deleted, with the item as it was (`ReturnValues: ALL_OLD`). */
  readonly onExpired?: (tableId: Id, item: Item) => void | Promise<void>;
  /** Items per Scan page. @default DynamoDB's own, 1 MB of data */
  readonly pageSize?: number;
  /** Where failed sweeps and failed `onExpired` calls are reported. @default console.error */
  readonly log?: (line: string) => void;
}

export interface TtlSweeper {
  /** Sweeps every table now, after any sweep already running. */
  sweepOnce(): Promise<void>;
  /** Stops sweeping; resolves when the sweep in progress, if any, has finished. */
  stop(): Promise<void>;
}

/**
 * Starts sweeping expired items every `intervalMs`.
 *
 * @example
 * const tables = ttlTablesOf(provisioned.tables);
 * const sweeper = startTtlSweeper({ db: clients.db, tables, intervalMs: 30_000, onExpired: reportExpiry });
 * await sweeper.sweepOnce();
 * await sweeper.stop();
 */
export function startTtlSweeper<Id extends string>(options: TtlSweeperOptions<Id>): TtlSweeper {
  const log = options.log ?? console.error;
  let last: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const sweepOnce = () => {
    const sweep = last.then(() => sweepTables(options, log));
    last = sweep.catch(() => undefined);
    return sweep;
  };
  const scheduleNext = () => {
    timer = setTimeout(async () => {
      await sweepOnce().catch((error: unknown) => log(`TTL sweep failed: ${String(error)}`));
      if (!stopped) scheduleNext();
    }, options.intervalMs);
    // A sweeper alone must not keep the process alive.
    timer.unref();
  };
  scheduleNext();

  return {
    sweepOnce,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await last;
    },
  };
}

/** The tables of `definitions` that have a TTL attribute, named as `names` says. */
export function ttlTablesOf<Id extends string = TableId>(
  names: Readonly<Record<Id, string>>,
  // Without definitions, Id keeps its default, which is exactly the ids of Parley's tables.
  definitions: Readonly<Record<Id, TableDefinition>> = parleyTables as unknown as Readonly<Record<Id, TableDefinition>>,
): TtlTable<Id>[] {
  return (Object.entries(definitions) as [Id, TableDefinition][]).flatMap(([tableId, definition]) => {
    const { partitionKey, sortKey, timeToLiveAttribute } = definition;
    if (!timeToLiveAttribute) return [];
    const keyNames = [partitionKey.name, ...(sortKey ? [sortKey.name] : [])];
    return [{ tableId, tableName: names[tableId], keyNames, ttlAttribute: timeToLiveAttribute }];
  });
}

async function sweepTables<Id extends string>(options: TtlSweeperOptions<Id>, log: (line: string) => void) {
  // One instant per sweep: an item is expired if its TTL is before it, in the Scan and in the delete alike.
  const nowSeconds = (options.now ?? Date.now)() / 1000;
  for (const table of options.tables) {
    for await (const key of expiredKeys(options.db, table, nowSeconds, options.pageSize)) {
      const item = await deleteIfStillExpired(options.db, table, key, nowSeconds);
      if (!item || !options.onExpired) continue;
      try {
        await options.onExpired(table.tableId, item);
      } catch (error) {
        log(`onExpired failed for an item of ${table.tableName}: ${String(error)}`);
      }
    }
  }
}

/** The keys of the items expired at `nowSeconds`, page by page. A TTL that is not a number never expires. */
async function* expiredKeys(db: DynamoDBDocumentClient, table: TtlTable, nowSeconds: number, pageSize?: number) {
  const keyPlaceholders = table.keyNames.map((_, index) => `#key${index}`);
  let ExclusiveStartKey: Item | undefined;
  do {
    const page = await db.send(
      new ScanCommand({
        TableName: table.tableName,
        FilterExpression: '#ttl < :now',
        ProjectionExpression: keyPlaceholders.join(', '),
        ExpressionAttributeNames: {
          '#ttl': table.ttlAttribute,
          ...Object.fromEntries(keyPlaceholders.map((placeholder, index) => [placeholder, table.keyNames[index]])),
        },
        ExpressionAttributeValues: { ':now': nowSeconds },
        Limit: pageSize,
        ExclusiveStartKey,
      }),
    );
    yield* page.Items ?? [];
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
}

/** Deletes the item unless it was refreshed (or removed) since the Scan; answers the deleted item. */
async function deleteIfStillExpired(db: DynamoDBDocumentClient, table: TtlTable, key: Item, nowSeconds: number) {
  try {
    const { Attributes } = await db.send(
      new DeleteCommand({
        TableName: table.tableName,
        Key: key,
        ConditionExpression: '#ttl < :now',
        ExpressionAttributeNames: { '#ttl': table.ttlAttribute },
        ExpressionAttributeValues: { ':now': nowSeconds },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes;
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return undefined;
    throw error;
  }
}
