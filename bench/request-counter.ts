/**
 * Counts what the handlers ask of AWS, through the runtime's two hooks: SDK middleware on every client
 * (`instrumentClients`) records each request by service and command, with the DynamoDB capacity units
 * and Kinesis payload it would be billed for; `intercept` counts each Lambda invocation and times it.
 *
 * Capacity model (DynamoDB on-demand, what the middleware computes from the items it sees):
 * - a write (PutItem, UpdateItem, DeleteItem) costs ceil(item size / 1 KB) write request units, at least
 *   1, also when its condition fails; the size is the larger of the item before and after, as the
 *   emulator reports it (every write asks for `ReturnConsumedCapacity: TOTAL`; a failed condition
 *   counts 1). A write that succeeds also writes each local secondary index holding the item (all
 *   attributes projected: the same units again), as DynamoDB bills it: a put of an item with the index's
 *   key once; an update twice when it sets the index's key (the entry moves: a delete and a put; counted
 *   so even for an item entering the index, an upper bound), else once (the entry is rewritten; counted
 *   so even for an item outside the sparse index, an upper bound); a delete once, unless the deleted
 *   item it answers (`ReturnValues: ALL_OLD`) shows it was not in the index.
 * - a strongly consistent GetItem or Query costs ceil(bytes read / 4 KB) read request units, at least 1;
 *   eventually consistent, half that. A read with a `ProjectionExpression` is billed by the whole items,
 *   not the attributes it returns (as DynamoDB bills it): every read asks for `ReturnConsumedCapacity:
 *   TOTAL`, which the emulator computes from the whole items, and a projected read counts that.
 * - BatchGetItem and BatchWriteItem cost what each of their items would cost alone (the group fan-out's
 *   reads and queue writes); items DynamoDB leaves unprocessed are counted when asked for again.
 */
import { performance } from 'node:perf_hooks';
import type { FunctionId } from '../lambdas/functions';
import { tables as tableDefinitions, type StreamId, type TableId } from '../lambdas/resources';
import { marshalledItemSize, plainItemSize } from './item-size';

/** What Lambda's event source mapping does on AWS, billed as enhanced fan-out, not per request. */
export const POLLER_COMMANDS = new Set(['GetRecords', 'GetShardIterator', 'ListShards', 'DescribeStream', 'DescribeStreamSummary', 'DescribeStreamConsumer', 'SubscribeToShard']);

export interface TableUsage {
  reads: number;
  writes: number;
  readUnits: number;
  writeUnits: number;
  maxItemBytes: number;
  /** Keys BatchGetItem asked for (a group fan-out's device reads): each billed as a read of its item, found or not. */
  batchKeys?: number;
}

export interface FunctionUsage {
  invocations: number;
  /** Wall time of each invocation, ms. */
  durationsMs: number[];
  /**
   * CPU time of this process (every thread: the emulators' too) while each invocation ran, ms: the
   * invocation's own and that of whatever else ran meanwhile, so a fair figure only when it ran alone.
   * Only for the functions in `CPU_TIMED`; empty for the others.
   */
  cpuMs: number[];
  /** Stream records handed to it (stream consumers). */
  records: number;
  errors: number;
}

export interface StreamUsage {
  records: number;
  bytes: number;
  payloadUnits25KB: number;
  billedKB: number;
}

const emptyStreamUsage = (): StreamUsage => ({ records: 0, bytes: 0, payloadUnits25KB: 0, billedKB: 0 });

export interface Usage {
  /** `${service} ${command}` → requests; the poller's own excluded. */
  requests: Record<string, number>;
  /** Requests of the Kinesis poller, not billed per request on AWS. */
  excludedPollerRequests: number;
  tables: Record<string, TableUsage>;
  /** Records put, by the stream they went to (its id in `lambdas/resources.ts` once named, else its name). */
  kinesis: Record<string, StreamUsage>;
  connections: { posts: number; bytes: number };
  functions: Partial<Record<FunctionId, FunctionUsage>>;
}

const emptyUsage = (): Usage => ({
  requests: {},
  excludedPollerRequests: 0,
  tables: {},
  kinesis: {},
  connections: { posts: 0, bytes: 0 },
  functions: {},
});

const SERVICES: Record<string, string> = {
  DynamoDBClient: 'dynamodb',
  KinesisClient: 'kinesis',
  ApiGatewayManagementApiClient: 'connections',
  SNSClient: 'sns',
  S3Client: 's3',
};

/**
 * The functions whose invocations' CPU time the report shows: the group fan-out's. `process.cpuUsage()` sums
 * every thread of the process (getrusage), which beside the busy emulator and function threads cost the
 * main thread ~50 µs a call (a worst case of 15 ms) on the 2-core machine; twice for every invocation, that
 * was bench overhead on the thread that carries every message.
 */
const CPU_TIMED: ReadonlySet<FunctionId> = new Set(['groupFanout']);

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);
const READS = new Set(['GetItem', 'Query', 'Scan']);

/** The names an update expression may use for an attribute: its own and its aliases. */
const namesOf = (input: any, attribute: string) => [
  attribute,
  ...Object.entries<string>(input.ExpressionAttributeNames ?? {}).filter(([, name]) => name === attribute).map(([alias]) => alias),
];
const clauseOf = (input: any, clause: string) => new RegExp(`\\b${clause}\\b(.*?)(\\b(SET|REMOVE|ADD|DELETE)\\b|$)`, 'is').exec(input.UpdateExpression ?? '')?.[1] ?? '';
const escaped = (name: string) => name.replace(/[#$]/g, '\\$&');

/** Whether an update expression SETs this attribute (by its name or an alias of it). */
function setsAttribute(input: any, attribute: string): boolean {
  const set = clauseOf(input, 'SET');
  return namesOf(input, attribute).some((name) => new RegExp(`(^|[\\s,])${escaped(name)}\\s*=`).test(set));
}

/** Whether an update expression REMOVEs this attribute. */
function removesAttribute(input: any, attribute: string): boolean {
  const remove = clauseOf(input, 'REMOVE');
  return namesOf(input, attribute).some((name) => new RegExp(`(^|[\\s,])${escaped(name)}(\\s*,|\\s*$)`).test(remove));
}

/**
 * Writes a successful write makes to one local secondary index (keyed by `sortKey`, every attribute
 * projected), as DynamoDB bills them: an entry put, rewritten or deleted is one write, an entry whose
 * key changed two (a delete and a put). `old` is the item the write replaced, when known; without it
 * (a write that asked for other return values) the count is an upper bound.
 */
function indexWrites(command: string, input: any, old: { item?: Record<string, unknown> } | undefined, sortKey: string): number {
  const oldHas = old ? old.item?.[sortKey] !== undefined : true;
  if (command === 'DeleteItem') return oldHas ? 1 : 0;
  const sets = command === 'PutItem' ? input.Item?.[sortKey] !== undefined : setsAttribute(input, sortKey);
  const newHas = command === 'PutItem' ? sets : sets || (oldHas && !removesAttribute(input, sortKey));
  if (oldHas && newHas) return sets && (!old || JSON.stringify(old.item?.[sortKey]) !== JSON.stringify(input.Item?.[sortKey] ?? null)) ? 2 : 1;
  return oldHas || newHas ? 1 : 0;
}

export class RequestCounter {
  private usage = emptyUsage();
  private tableIds = new Map<string, TableId>();
  private streamIds = new Map<string, StreamId>();

  /** Names tables by their id in `lambdas/resources.ts` once the runtime has made them. */
  nameTables(names: Readonly<Record<TableId, string>>): void {
    for (const [id, name] of Object.entries(names)) this.tableIds.set(name, id as TableId);
  }

  /** Names streams by their id in `lambdas/resources.ts`, so records are counted (and priced) by the stream they went to. */
  nameStreams(names: Readonly<Record<StreamId, string>>): void {
    for (const [id, name] of Object.entries(names)) this.streamIds.set(name, id as StreamId);
  }

  reset(): void {
    this.usage = emptyUsage();
  }

  /** Invocations started and not finished yet (a DELIVERED without requestId has no answer to wait for). */
  inFlight(): number {
    return Object.values(this.usage.functions).reduce((sum, fn) => sum + fn!.invocations - fn!.durationsMs.length, 0);
  }

  /** The usage since the last reset; counting goes on in a fresh record. */
  take(): Usage {
    const taken = this.usage;
    this.usage = emptyUsage();
    return taken;
  }

  /**
   * The usage since the last call, for a function thread's report (local/function-threads/instrumentation.ts).
   * Unlike `take`, the record is emptied in place: a request still in flight when this is called (another
   * invocation's) counts its capacity in the next report instead of in one already posted.
   */
  drain(): Usage {
    const drained = { ...this.usage };
    Object.assign(this.usage, emptyUsage());
    return drained;
  }

  /** Adds the requests a function thread counted (`drain` there) to this counter's. */
  add(counted: Usage): void {
    const usage = this.usage;
    for (const [key, count] of Object.entries(counted.requests)) usage.requests[key] = (usage.requests[key] ?? 0) + count;
    usage.excludedPollerRequests += counted.excludedPollerRequests;
    for (const [name, table] of Object.entries(counted.tables)) {
      const into = (usage.tables[name] ??= { reads: 0, writes: 0, readUnits: 0, writeUnits: 0, maxItemBytes: 0 });
      into.reads += table.reads;
      into.writes += table.writes;
      into.readUnits += table.readUnits;
      into.writeUnits += table.writeUnits;
      into.maxItemBytes = Math.max(into.maxItemBytes, table.maxItemBytes);
      if (table.batchKeys) into.batchKeys = (into.batchKeys ?? 0) + table.batchKeys;
    }
    for (const [stream, put] of Object.entries(counted.kinesis)) {
      const into = (usage.kinesis[stream] ??= emptyStreamUsage());
      for (const key of ['records', 'bytes', 'payloadUnits25KB', 'billedKB'] as const) into[key] += put[key];
    }
    usage.connections.posts += counted.connections.posts;
    usage.connections.bytes += counted.connections.bytes;
  }

  readonly instrument = <T extends object>(client: T): T => {
    const service = SERVICES[client.constructor.name] ?? client.constructor.name;
    const stack = (client as unknown as { middlewareStack: { add(middleware: unknown, options: unknown): void } }).middlewareStack;
    if (service === 'dynamodb') {
      // Before the request is serialized: every write reports the capacity it consumed, by item size, and
      // one to a table with an index answers the item it replaced (taken out of the answer again below), so
      // that the index writes are counted as DynamoDB bills them.
      stack.add(
        (next: (args: any) => Promise<any>, context: { commandName?: string; parleyBenchOldItem?: boolean }) => (args: any) => {
          const command = (context.commandName ?? '').replace(/Command$/, '');
          if (!args.input) return next(args);
          if (READS.has(command) || command === 'BatchGetItem') return next({ ...args, input: { ...args.input, ReturnConsumedCapacity: args.input.ReturnConsumedCapacity ?? 'TOTAL' } });
          if (!WRITES.has(command)) return next(args);
          const input = { ...args.input, ReturnConsumedCapacity: args.input.ReturnConsumedCapacity ?? 'TOTAL' };
          if (this.hasIndexes(input.TableName) && (input.ReturnValues ?? 'NONE') === 'NONE') {
            input.ReturnValues = 'ALL_OLD';
            context.parleyBenchOldItem = true;
          }
          return next({ ...args, input });
        },
        { step: 'serialize', priority: 'high', name: 'parleyBenchConsumedCapacity' },
      );
    }
    stack.add(
      (next: (args: any) => Promise<any>, context: { commandName?: string }) => async (args: any) => {
        const command = (context.commandName ?? 'Unknown').replace(/Command$/, '');
        if (service === 'kinesis' && POLLER_COMMANDS.has(command)) {
          this.usage.excludedPollerRequests++;
          return next(args);
        }
        const usage = this.usage;
        const key = `${service} ${command}`;
        usage.requests[key] = (usage.requests[key] ?? 0) + 1;
        if (service === 'kinesis') this.countPut(usage, command, args.input);
        if (service === 'connections' && command === 'PostToConnection') {
          usage.connections.posts++;
          usage.connections.bytes += (args.input.Data as Uint8Array | undefined)?.length ?? 0;
        }
        if (service !== 'dynamodb') return next(args);
        try {
          const result = await next(args);
          const askedOld = (context as { parleyBenchOldItem?: boolean }).parleyBenchOldItem;
          const old = askedOld || args.input.ReturnValues === 'ALL_OLD' ? { item: result.output?.Attributes } : undefined;
          if (askedOld && result.output) delete result.output.Attributes;
          this.countCapacity(usage, command, args.input, result.output, true, old);
          return result;
        } catch (error) {
          this.countCapacity(usage, command, args.input, undefined, false);
          throw error;
        }
      },
      // At the build step the document client has marshalled the input and (on the way back) unmarshalled the output.
      { step: 'build', name: 'parleyBenchCounter' },
    );
    return client;
  };

  readonly intercept = (id: FunctionId, invoke: (event: unknown) => Promise<unknown>) => async (event: unknown) => {
    const usage = this.usage;
    const entry = (usage.functions[id] ??= { invocations: 0, durationsMs: [], cpuMs: [], records: 0, errors: 0 });
    entry.invocations++;
    entry.records += (event as { Records?: unknown[] })?.Records?.length ?? 0;
    const start = performance.now();
    const cpu = CPU_TIMED.has(id) ? process.cpuUsage() : undefined;
    try {
      return await invoke(event);
    } catch (error) {
      entry.errors++;
      throw error;
    } finally {
      entry.durationsMs.push(performance.now() - start);
      if (cpu) {
        const { user, system } = process.cpuUsage(cpu);
        entry.cpuMs.push((user + system) / 1000);
      }
    }
  };

  private countPut(usage: Usage, command: string, input: any): void {
    const records: { Data?: Uint8Array; PartitionKey?: string }[] =
      command === 'PutRecord' ? [input] : command === 'PutRecords' ? (input.Records ?? []) : [];
    const streamName: string = input.StreamName ?? 'unnamed';
    const stream = (usage.kinesis[this.streamIds.get(streamName) ?? streamName] ??= emptyStreamUsage());
    for (const record of records) {
      const bytes = (record.Data?.length ?? 0) + Buffer.byteLength(record.PartitionKey ?? '');
      stream.records++;
      stream.bytes += bytes;
      stream.payloadUnits25KB += Math.max(1, Math.ceil(bytes / (25 * 1024)));
      stream.billedKB += Math.max(1, Math.ceil(bytes / 1024));
    }
  }

  private tableUsage(usage: Usage, tableName: string): { table: TableUsage; indexes: readonly { sortKey: { name: string } }[] } {
    const tableId = this.tableIds.get(tableName);
    const table = (usage.tables[tableId ?? tableName] ??= { reads: 0, writes: 0, readUnits: 0, writeUnits: 0, maxItemBytes: 0 });
    const indexes = tableId ? ((tableDefinitions[tableId] as { localIndexes?: readonly { sortKey: { name: string } }[] }).localIndexes ?? []) : [];
    return { table, indexes };
  }

  private hasIndexes(tableName: string | undefined): boolean {
    const tableId = tableName ? this.tableIds.get(tableName) : undefined;
    return tableId !== undefined && ((tableDefinitions[tableId] as { localIndexes?: readonly unknown[] }).localIndexes ?? []).length > 0;
  }

  private countCapacity(usage: Usage, command: string, input: any, output: any, succeeded: boolean, old?: { item?: Record<string, unknown> }): void {
    if (command === 'BatchGetItem') return this.countBatchGet(usage, input, output);
    if (command === 'BatchWriteItem') return this.countBatchWrite(usage, input, output);
    const { table, indexes } = this.tableUsage(usage, input?.TableName ?? 'unknown');
    if (WRITES.has(command)) {
      table.writes++;
      // An UpdateItem is billed on the item's size too (the larger of before and after): known here when it
      // returns the item (ALL_NEW), as the group tallies do; otherwise counted as one unit.
      const size =
        command === 'PutItem' ? marshalledItemSize(input.Item ?? {}) : command === 'UpdateItem' && output?.Attributes && input.ReturnValues === 'ALL_NEW' ? plainItemSize(output.Attributes) : 0;
      table.maxItemBytes = Math.max(table.maxItemBytes, size);
      const units = Math.max(1, output?.ConsumedCapacity?.CapacityUnits ?? Math.ceil(size / 1024));
      table.writeUnits += units;
      if (succeeded) table.writeUnits += units * indexes.reduce((sum, index) => sum + indexWrites(command, input, old, index.sortKey.name), 0);
    } else if (READS.has(command)) {
      table.reads++;
      const items: Record<string, unknown>[] = output?.Item ? [output.Item] : (output?.Items ?? []);
      const bytes = items.reduce((sum, item) => sum + plainItemSize(item), 0);
      for (const item of items) table.maxItemBytes = Math.max(table.maxItemBytes, plainItemSize(item));
      const perUnit = input.ConsistentRead ? 1 : 0.5;
      // A projection returns fewer bytes, billed the same: the whole items' units, as the emulator counts them.
      const consumed: number | undefined = input.ProjectionExpression ? output?.ConsumedCapacity?.CapacityUnits : undefined;
      table.readUnits += Math.max(perUnit, consumed ?? Math.ceil(bytes / 4096) * perUnit);
    } else {
      // Transactions: not on any path the bench drives; one request, one unit.
      table.reads++;
      table.readUnits += 1;
    }
  }

  /**
   * BatchGetItem: each key costs what its own GetItem would (eventually consistent: half), a key with no
   * item the minimum, as DynamoDB bills it.
   */
  private countBatchGet(usage: Usage, input: any, output: any): void {
    for (const [tableName, request] of Object.entries<any>(input?.RequestItems ?? {})) {
      const { table } = this.tableUsage(usage, tableName);
      table.reads++;
      const items: Record<string, unknown>[] = output?.Responses?.[tableName] ?? [];
      const unprocessed = output?.UnprocessedKeys?.[tableName]?.Keys?.length ?? 0;
      const missing = Math.max(0, (request.Keys?.length ?? 0) - unprocessed - items.length);
      table.batchKeys = (table.batchKeys ?? 0) + (request.Keys?.length ?? 0) - unprocessed;
      const perUnit = request.ConsistentRead ? 1 : 0.5;
      // A projection returns fewer bytes, billed the same: the emulator's units, of the whole items, each
      // rounded on its own; without a projection, of the items as returned.
      const consumed: number | undefined = request.ProjectionExpression
        ? (output?.ConsumedCapacity as { TableName?: string; CapacityUnits?: number }[] | undefined)?.find((c) => c.TableName === tableName)?.CapacityUnits
        : undefined;
      if (consumed === undefined) table.readUnits += missing * perUnit;
      for (const item of items) {
        const bytes = plainItemSize(item);
        table.maxItemBytes = Math.max(table.maxItemBytes, bytes);
        if (consumed === undefined) table.readUnits += Math.max(1, Math.ceil(bytes / 4096)) * perUnit;
      }
      if (consumed !== undefined) table.readUnits += consumed;
    }
  }

  /** BatchWriteItem: each put or delete costs what its own PutItem or DeleteItem would. */
  private countBatchWrite(usage: Usage, input: any, output: any): void {
    for (const [tableName, requests] of Object.entries<any[]>(input?.RequestItems ?? {})) {
      const { table, indexes } = this.tableUsage(usage, tableName);
      const unprocessed = output?.UnprocessedItems?.[tableName]?.length ?? 0;
      table.writes++;
      for (const request of requests.slice(0, requests.length - unprocessed)) {
        const item = request.PutRequest?.Item;
        const size = item ? marshalledItemSize(item) : 0;
        table.maxItemBytes = Math.max(table.maxItemBytes, size);
        const units = Math.max(1, Math.ceil(size / 1024));
        table.writeUnits += units * (1 + (item ? indexes.filter((index) => item[index.sortKey.name]).length : indexes.length));
      }
    }
  }
}
