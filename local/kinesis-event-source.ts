/**
 * Lambda's Kinesis event source mapping, for kinesalite: every shard of the stream is read in parallel,
 * each with up to `parallelizationFactor` batches in flight (the records of one partition key always in
 * the same one, in order), and each batch handed to the handler as a `KinesisStreamEvent`
 * with Lambda's retry, bisect, partial-failure and on-failure behaviour. With `checkpoints`, each shard
 * resumes after its last settled record, as Lambda's mapping does; a shard without one (or every shard,
 * without `checkpoints`) starts at `startingPosition`.
 */
import {
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  type KinesisClient,
  type ListShardsCommandInput,
  type Shard,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamRecord } from 'aws-lambda';
import { settleBatch, type KinesisHandler, type RetryPolicy } from './kinesis/batch-settlement';
import { eventSourceOf, toKinesisStreamRecord } from './kinesis/kinesis-event';
import type { KinesisPut, KinesisPutFeed } from './kinesis/put-feed';
import type { ShardCheckpoints } from './kinesis/checkpoints';
import { ShardReader, type StartingPosition } from './kinesis/shard-reader';

export type { KinesisHandler } from './kinesis/batch-settlement';
export type { StartingPosition } from './kinesis/shard-reader';

/** A batch given up on, as the on-failure destination receives it. */
export interface KinesisBatchFailure {
  readonly shardId: string;
  readonly records: KinesisStreamRecord[];
  /** The last error: what the handler threw, or that it reported records failed. */
  readonly error: Error;
}

export interface KinesisEventSourceOptions {
  /** A client using HTTP/1.1, as `createClients` makes it: kinesalite refuses HTTP/2. */
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  readonly handler: KinesisHandler;
  /** Where each shard without a checkpoint starts: its oldest record, or only what is put from now on. */
  readonly startingPosition: StartingPosition;
  /** Where each shard's last settled record is kept across restarts. @default none: every start is at `startingPosition` */
  readonly checkpoints?: ShardCheckpoints;
  /** Records per invocation, at most. @default 100 */
  readonly batchSize?: number;
  /**
   * Batches of one shard in flight at once (Lambda's `ParallelizationFactor`, 1 to 10): records go to one
   * of them by a hash of their partition key, so a key's records keep their order while a slow batch holds
   * up only the keys that hash with it. The checkpoint stays before the earliest record not yet settled.
   * @default 1: one batch per shard, the shard's records in order
   */
  readonly parallelizationFactor?: number;
  /** Retries of a failing batch before it goes to `onFailure`; -1 retries forever. @default 3 */
  readonly retryAttempts?: number;
  /** Split a batch the handler threw on in two, until the failing record is alone. @default false */
  readonly bisectBatchOnError?: boolean;
  /** Honour `batchItemFailures` in the handler's answer. @default false */
  readonly reportBatchItemFailures?: boolean;
  /** The on-failure destination (an S3 bucket or SQS queue on AWS). @default the batch is dropped, with a log line */
  readonly onFailure?: (failure: KinesisBatchFailure) => Promise<void>;
  /**
   * Puts on the stream (`AwsEmulators.kinesisPuts`): each wakes the reader of the record's shard at once, so
   * shards need not be polled every few milliseconds for low latency.
   */
  readonly puts?: KinesisPutFeed;
  /**
   * Pause before polling again a shard that had nothing new. @default 5 ms; with `puts`, which wake a reader
   * at once, 1 s as a fallback (as often as Lambda polls a shard): an idle GetRecords costs kinesalite and the
   * SDK some 4 ms of CPU, so four shards polled every 250 ms kept 7% of a core busy with nothing to do.
   */
  readonly idlePollMs?: number;
  /** Wait before the first retry of a batch, doubling with each retry up to a second. @default 10 ms */
  readonly retryDelayMs?: number;
  /** Where failed reads and failed `onFailure` calls are reported. @default console.error */
  readonly log?: (line: string) => void;
}

export interface KinesisEventSource {
  /**
   * Resolves once every record put before the call has been handled or handed to `onFailure` (so never while
   * a batch is retried forever).
   */
  drain(): Promise<void>;
  /** Stops polling; resolves after the batches in flight have settled. Starts no new invocation. */
  stop(): Promise<void>;
}

/**
 * Starts polling every shard of the stream.
 *
 * @example
 * const source = await startKinesisEventSource({
 *   kinesis: clients.kinesis,
 *   streamName: environment.MESSAGE_STREAM,
 *   startingPosition: 'LATEST',
 *   handler: fanoutHandler,
 *   puts: emulators.kinesisPuts,
 *   bisectBatchOnError: true,
 *   reportBatchItemFailures: true,
 * });
 * await source.drain();
 * await source.stop();
 */
export async function startKinesisEventSource(options: KinesisEventSourceOptions): Promise<KinesisEventSource> {
  const { kinesis, streamName, handler } = options;
  const log = options.log ?? console.error;
  const policy: RetryPolicy = {
    retryAttempts: options.retryAttempts ?? 3,
    bisectBatchOnError: options.bisectBatchOnError ?? false,
    reportBatchItemFailures: options.reportBatchItemFailures ?? false,
    retryDelayMs: options.retryDelayMs ?? 10,
  };
  const onFailure = options.onFailure ?? (async ({ shardId, records, error }) => {
    log(`Dropped ${records.length} records of ${shardId} after retries: ${error.message}`);
  });
  const discard = (shardId: string) => (records: KinesisStreamRecord[], error: Error) =>
    onFailure({ shardId, records, error }).catch((failure: unknown) =>
      log(`onFailure failed for ${records.length} records of ${shardId}: ${String(failure)}`),
    );
  const source = eventSourceOf(await streamArnOf(kinesis, streamName));
  const controller = new AbortController();
  const { signal } = controller;

  const shards = await shardsOf(kinesis, streamName);
  const readers = await Promise.all(
    shards.map(({ ShardId: shardId = '' }) =>
      ShardReader.start({
        kinesis,
        streamName,
        shardId,
        startingPosition: options.startingPosition,
        ...checkpointing(options.checkpoints, shardId),
        batchSize: options.batchSize ?? 100,
        parallelization: options.parallelizationFactor ?? 1,
        idlePollMs: options.idlePollMs ?? (options.puts ? 1000 : 5),
        log,
        signal,
        settle: (records) =>
          settleBatch(
            records.map((record) => toKinesisStreamRecord(record, shardId, source)),
            { handler, policy, signal, discard: discard(shardId) },
          ),
      }),
    ),
  );
  const unsubscribe = options.puts?.subscribe(wakeOnPut(streamName, shards, readers));

  return {
    drain: async () => {
      await Promise.all(readers.map((reader) => reader.caughtUp()));
    },
    stop: async () => {
      unsubscribe?.();
      controller.abort();
      await Promise.all(readers.map((reader) => reader.done));
    },
  };
}

/** Where a shard's reader resumes, and how it tells that a batch is settled, when checkpoints are kept. */
function checkpointing(checkpoints: ShardCheckpoints | undefined, shardId: string) {
  if (!checkpoints) return {};
  const startAfter = checkpoints.lastSettled(shardId);
  return {
    ...(startAfter ? { startAfter } : {}),
    settled: (sequenceNumber: string) => checkpoints.settled(shardId, sequenceNumber),
  };
}

/** Wakes the reader of every shard a put placed a record on, found by hash key range as Kinesis does. */
function wakeOnPut(streamName: string, shards: readonly Shard[], readers: readonly ShardReader[]) {
  const ranges = shards.map((shard, index) => ({
    reader: readers[index],
    start: BigInt(shard.HashKeyRange?.StartingHashKey ?? 0),
    end: BigInt(shard.HashKeyRange?.EndingHashKey ?? 0),
  }));
  return (put: KinesisPut) => {
    if (put.streamName !== streamName) return;
    for (const hashKey of put.hashKeys) {
      for (const { reader, start, end } of ranges) if (start <= hashKey && hashKey <= end) reader?.wake();
    }
  };
}

async function streamArnOf(kinesis: KinesisClient, streamName: string): Promise<string> {
  const { StreamDescriptionSummary } = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
  if (!StreamDescriptionSummary?.StreamARN) throw new Error(`Stream ${streamName} has no ARN`);
  return StreamDescriptionSummary.StreamARN;
}

/**
 * Every shard, read in parallel. After a reshard (which Parley never does locally) Lambda would finish a
 * parent before its children; this does not.
 */
async function shardsOf(kinesis: KinesisClient, streamName: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    // ListShards takes either the stream's name or the token of the next page, never both.
    const input: ListShardsCommandInput = nextToken ? { NextToken: nextToken } : { StreamName: streamName };
    const page = await kinesis.send(new ListShardsCommand(input));
    shards.push(...(page.Shards ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return shards;
}
