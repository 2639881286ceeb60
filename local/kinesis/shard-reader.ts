/**
 * Reads one shard the way Lambda's event source mapping does: one batch at a time, each settled before the
 * next is read, so records of a partition key are handled in order. It reads again at once after a
 * non-empty batch; after an empty one it waits `idlePollMs`, or less if woken because a record was put.
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

export type StartingPosition = 'TRIM_HORIZON' | 'LATEST';

export interface ShardReaderOptions {
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  readonly shardId: string;
  readonly startingPosition: StartingPosition;
  /** Resume right after this sequence number instead of at `startingPosition`: the shard's checkpoint. */
  readonly startAfter?: string;
  readonly batchSize: number;
  readonly idlePollMs: number;
  /**
   * Settles one batch; the reader moves past it when this resolves, and on `true` (the batch was settled,
   * not abandoned on stop) reports the batch's last record to `settled`.
   */
  readonly settle: (records: _Record[]) => Promise<boolean>;
  /** Told the sequence number of the last record of each settled batch: the place to keep a checkpoint. */
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

  private constructor(
    private readonly options: ShardReaderOptions,
    firstIterator: string,
  ) {
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
    const { kinesis, batchSize, idlePollMs, settle, signal } = this.options;
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
          const settledAll = await settle(records);
          this.lastSequenceNumber = records.at(-1)?.SequenceNumber;
          // An abandoned batch is not checkpointed: after a restart it is read again, as Lambda would.
          if (settledAll && this.lastSequenceNumber) await this.options.settled?.(this.lastSequenceNumber);
        } else {
          this.reportCaughtUp(read);
          await this.doorbell.wait(idlePollMs, signal);
        }
        iterator = page.NextShardIterator;
      } catch (error) {
        if (signal.aborted) break;
        iterator = await this.recover(error, current);
      }
    }
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

  private reportCaughtUp(read: number): void {
    for (const waiter of this.waiters) {
      if (read > waiter.afterRead) {
        this.waiters.delete(waiter);
        waiter.resolve();
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
