/**
 * Reads one shard the way Lambda's event source mapping does, handing what it reads to the shard's
 * concurrent batches (`concurrent-batches.ts`: one batch at a time per lane, records of a partition key in
 * one lane and in order). It reads ahead while batches settle, up to a batch per lane; it reads again at
 * once after a full read (the shard may hold more). After a read short of the limit (empty, or all the
 * shard had) it waits `idlePollMs`, or less if woken because a record was put: as an enhanced fan-out
 * consumer is pushed records, rather than reading an empty shard after every message.
 */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
  type GetRecordsCommandOutput,
  type GetShardIteratorCommandInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { Doorbell, pause } from '../aws/wait';
import { ConcurrentBatches } from './concurrent-batches';

export type StartingPosition = 'TRIM_HORIZON' | 'LATEST';

export interface ShardReaderOptions {
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  readonly shardId: string;
  readonly startingPosition: StartingPosition;
  /** Resume right after this sequence number instead of at `startingPosition`: the shard's checkpoint. */
  readonly startAfter?: string;
  readonly batchSize: number;
  /** Batches of the shard in flight at once, records of a partition key always in the same one: 1 to 10. */
  readonly parallelization: number;
  readonly idlePollMs: number;
  /** Settles one batch: `true` once handled or given up on, `false` if abandoned on stop (not checkpointed). */
  readonly settle: (records: _Record[]) => Promise<boolean>;
  /** Told the sequence number up to which every record read is settled: the place to keep a checkpoint. */
  readonly settled?: (sequenceNumber: string) => Promise<void>;
  /** Where failed reads are reported. */
  readonly log: (line: string) => void;
  /** Aborting stops the reader after the batch in progress. */
  readonly signal: AbortSignal;
}

type IteratorPosition = Omit<GetShardIteratorCommandInput, 'StreamName' | 'StreamARN' | 'ShardId'>;

interface CatchUpWaiter {
  /** Only a read started after this one can prove the waiter's records were all seen. */
  readonly afterRead: number;
  readonly resolve: () => void;
}

/** Pause after a failed read, so a stopped emulator is not hammered. */
const READ_RETRY_MS = 100;

export class ShardReader {
  /** Resolves when the reader has stopped: aborted, or its shard closed. */
  readonly done: Promise<void>;
  private readonly startedAt = new Date();
  private lastSequenceNumber: string | undefined;
  private reads = 0;
  private stopped = false;
  private readonly waiters = new Set<CatchUpWaiter>();
  private readonly doorbell = new Doorbell();
  private readonly batches: ConcurrentBatches;

  private constructor(
    private readonly options: ShardReaderOptions,
    firstIterator: string,
  ) {
    const { parallelization, batchSize, settle, settled, log, signal } = options;
    this.batches = new ConcurrentBatches({ parallelization, batchSize, settle, ...(settled ? { settled } : {}), log, signal });
    this.done = this.run(firstIterator);
  }

  /** Gets the shard's first iterator (so a wrong stream or shard fails here) and starts reading. */
  static async start(options: ShardReaderOptions): Promise<ShardReader> {
    const firstIterator = await iteratorAt(
      options,
      options.startAfter
        ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: options.startAfter }
        : { ShardIteratorType: options.startingPosition },
    );
    return new ShardReader(options, firstIterator);
  }

  /** Reads at once if idle, or right after the read in progress: a record was put on the shard. */
  wake(): void {
    this.doorbell.ring();
  }

  /** Resolves once every record put on the shard before the call has been settled (or the reader stopped). */
  caughtUp(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const caughtUp = new Promise<void>((resolve) => this.waiters.add({ afterRead: this.reads, resolve }));
    // Only a read begun from now on can tell; no need to wait out an idle pause for it.
    this.wake();
    return caughtUp;
  }

  private async run(firstIterator: string): Promise<void> {
    const { kinesis, batchSize, idlePollMs, signal } = this.options;
    let iterator: string | undefined = firstIterator;
    while (iterator && !signal.aborted) {
      const read = ++this.reads;
      const current: string = iterator;
      this.doorbell.clear();
      try {
        const command = new GetRecordsCommand({ ShardIterator: current, Limit: batchSize });
        const page: GetRecordsCommandOutput = await kinesis.send(command, { abortSignal: signal });
        const records = page.Records ?? [];
        if (records.length > 0) {
          this.lastSequenceNumber = records.at(-1)?.SequenceNumber;
          await this.batches.add(records);
        }
        if (records.length < batchSize) {
          // A put since the read began rang the doorbell (cleared before the read): this waits only when none did.
          this.reportCaughtUp(read);
          await this.doorbell.wait(idlePollMs, signal);
        }
        iterator = page.NextShardIterator;
      } catch (error) {
        if (signal.aborted) break;
        iterator = await this.recover(error, current);
      }
    }
    // Stopping waits for the batches in flight; none starts after.
    await this.batches.idle();
    this.stopped = true;
    for (const waiter of this.waiters) waiter.resolve();
  }

  /**
   * After a failed read: the same iterator after a pause, or a fresh one if it expired, as iterators do
   * five minutes after they were issued (a batch that took that long to settle, a laptop that slept).
   */
  private async recover(error: unknown, iterator: string): Promise<string> {
    const { log, signal, shardId, streamName } = this.options;
    log(`Reading ${shardId} of ${streamName} failed: ${String(error)}`);
    await pause(READ_RETRY_MS, signal);
    if ((error as Error).name !== 'ExpiredIteratorException') return iterator;
    return iteratorAt(this.options, this.resumePosition()).catch(() => iterator);
  }

  /** Right after the last record read; if none was, where reading began. */
  private resumePosition(): IteratorPosition {
    const after = this.lastSequenceNumber ?? this.options.startAfter;
    if (after) return { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after };
    return this.options.startingPosition === 'LATEST'
      ? { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: this.startedAt }
      : { ShardIteratorType: 'TRIM_HORIZON' };
  }

  /**
   * A read short of the limit begun after a waiter came: every record put before it was read, and is
   * settled once the batches say so.
   */
  private reportCaughtUp(read: number): void {
    for (const waiter of this.waiters) {
      if (read > waiter.afterRead) {
        this.waiters.delete(waiter);
        void this.batches.settledSoFar().then(waiter.resolve);
      }
    }
  }
}

async function iteratorAt(
  { kinesis, streamName, shardId }: ShardReaderOptions,
  position: IteratorPosition,
): Promise<string> {
  const { ShardIterator } = await kinesis.send(
    new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ...position }),
  );
  if (!ShardIterator) throw new Error(`Shard ${shardId} of ${streamName} gave no iterator`);
  return ShardIterator;
}
