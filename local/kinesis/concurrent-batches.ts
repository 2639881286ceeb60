/**
 * Lambda's concurrent batches per shard (an event source mapping's `ParallelizationFactor`): the records
 * read from one shard are spread over `parallelization` lanes by a hash of their partition key, and each
 * lane settles one batch at a time, in order. So the records of one partition key are handled one after
 * another and in order, while a slow batch (a large group's fan-out) holds up only the keys of its own
 * lane. The shard's checkpoint moves past a record only once every record read before it is settled too,
 * so a restart hands over again whatever was not settled, as Lambda resumes from its checkpoint.
 */
import { createHash } from 'node:crypto';
import type { _Record } from '@aws-sdk/client-kinesis';
import { pause } from '../aws/wait';

export interface ConcurrentBatchesOptions {
  /** Lanes of one shard, each with one batch in flight at most: Lambda's 1 to 10. */
  readonly parallelization: number;
  /** Records per invocation, at most. */
  readonly batchSize: number;
  /** Settles one batch; `false` if it was abandoned because `signal` aborted (it is then not checkpointed). */
  readonly settle: (records: _Record[]) => Promise<boolean>;
  /** Told the sequence number up to which every record read is settled: the place to keep a checkpoint. */
  readonly settled?: (sequenceNumber: string) => Promise<void>;
  /** Where a settlement that threw is reported (it is tried again). */
  readonly log: (line: string) => void;
  /** Once aborted, no lane starts a new batch. */
  readonly signal: AbortSignal;
}

interface Lane {
  readonly queue: _Record[];
  running?: Promise<void>;
}

interface SettledWaiter {
  /** Resolves once this many records, counted in read order from the first, are settled. */
  readonly count: number;
  readonly resolve: () => void;
}

/** Batches per lane read and not yet settled before the shard is read no further: memory, bounded. */
const READ_AHEAD_BATCHES = 10;

/** Pause before settling again a batch whose settlement threw (it does not, short of a bug). */
const SETTLE_RETRY_MS = 100;

/**
 * Which of a shard's `parallelization` lanes takes a partition key's records: Lambda keeps a key in one,
 * chosen by a hash of the key (which hash is Lambda's own; locally the MD5's first 32 bits).
 */
export function laneOfKey(partitionKey: string, parallelization: number): number {
  if (parallelization === 1) return 0;
  return createHash('md5').update(partitionKey, 'utf8').digest().readUInt32BE(0) % parallelization;
}

export class ConcurrentBatches {
  private readonly lanes: Lane[];
  /** Sequence numbers read and not yet part of the settled prefix, in read order, with whether each is settled. */
  private readonly pending = new Map<string, boolean>();
  private read = 0;
  private settledPrefix = 0;
  /** Records read and not yet settled: what bounds reading ahead. */
  private outstanding = 0;
  private readonly waiters = new Set<SettledWaiter>();
  private roomWaiter: (() => void) | undefined;
  private checkpointing: Promise<void> = Promise.resolve();

  constructor(private readonly options: ConcurrentBatchesOptions) {
    if (!Number.isInteger(options.parallelization) || options.parallelization < 1 || options.parallelization > 10) {
      throw new Error(`parallelization must be an integer from 1 to 10, not ${options.parallelization}`);
    }
    this.lanes = Array.from({ length: options.parallelization }, () => ({ queue: [] }));
    // A reader waiting for room must not wait out a stop.
    options.signal.addEventListener('abort', () => this.roomWaiter?.(), { once: true });
  }

  /**
   * Hands records read from the shard, in order, to their lanes; resolves when there is room to read more.
   * The bound is loose (`READ_AHEAD_BATCHES` batches per lane) so that the backlog of one slow lane does
   * not stop the reading that the others need.
   */
  async add(records: readonly _Record[]): Promise<void> {
    for (const record of records) {
      this.pending.set(record.SequenceNumber ?? '', false);
      this.read++;
      this.outstanding++;
      this.laneOf(record.PartitionKey ?? '').queue.push(record);
    }
    for (const lane of this.lanes) this.start(lane);
    const limit = READ_AHEAD_BATCHES * this.options.batchSize * this.lanes.length;
    while (this.outstanding >= limit && !this.options.signal.aborted) {
      await new Promise<void>((resolve) => (this.roomWaiter = resolve));
    }
  }

  /** Resolves once every record added so far is settled and checkpointed (or the lanes stopped). */
  settledSoFar(): Promise<void> {
    if (this.settledPrefix >= this.read) return this.checkpointing;
    return new Promise((resolve) => this.waiters.add({ count: this.read, resolve }));
  }

  /** Resolves when no lane has a batch in flight: after a stop, once the batches in flight have settled. */
  async idle(): Promise<void> {
    while (this.lanes.some((lane) => lane.running)) await Promise.all(this.lanes.map((lane) => lane.running));
    await this.checkpointing;
    for (const waiter of this.waiters) waiter.resolve();
    this.waiters.clear();
    this.roomWaiter?.();
  }

  private laneOf(partitionKey: string): Lane {
    return this.lanes[laneOfKey(partitionKey, this.lanes.length)]!;
  }

  private start(lane: Lane): void {
    if (lane.running || lane.queue.length === 0) return;
    lane.running = this.drain(lane).finally(() => {
      lane.running = undefined;
      // Records may have arrived while the last batch settled.
      if (!this.options.signal.aborted) this.start(lane);
    });
  }

  private async drain(lane: Lane): Promise<void> {
    const { batchSize, settle, signal, log } = this.options;
    while (lane.queue.length > 0 && !signal.aborted) {
      const batch = lane.queue.slice(0, batchSize);
      let settledAll: boolean;
      try {
        settledAll = await settle(batch);
      } catch (error) {
        log(`Settling ${batch.length} records failed, trying again: ${String(error)}`);
        await pause(SETTLE_RETRY_MS, signal);
        continue;
      }
      // An abandoned batch stays unsettled: the checkpoint stops before it, so it is read again after a restart.
      if (!settledAll) return;
      lane.queue.splice(0, batch.length);
      this.markSettled(batch);
    }
  }

  private markSettled(batch: readonly _Record[]): void {
    for (const record of batch) this.pending.set(record.SequenceNumber ?? '', true);
    this.outstanding -= batch.length;
    let through: string | undefined;
    for (const [sequenceNumber, settled] of this.pending) {
      if (!settled) break;
      this.pending.delete(sequenceNumber);
      this.settledPrefix++;
      through = sequenceNumber;
    }
    if (through !== undefined && this.options.settled) {
      const checkpoint = through;
      const settledCallback = this.options.settled;
      this.checkpointing = this.checkpointing
        .then(() => settledCallback(checkpoint))
        .catch((error: unknown) => this.options.log(`Keeping the checkpoint ${checkpoint} failed: ${String(error)}`));
    }
    for (const waiter of this.waiters) {
      if (waiter.count <= this.settledPrefix) {
        this.waiters.delete(waiter);
        void this.checkpointing.then(waiter.resolve, waiter.resolve);
      }
    }
    const room = this.roomWaiter;
    this.roomWaiter = undefined;
    room?.();
  }
}
