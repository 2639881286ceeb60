/**
 * What Lambda does with one batch from a shard until it can move on: invoke the function, and on failure
 * retry, bisect, resume after the records it reported done, or finally discard the batch to the on-failure
 * destination.
 */
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { pause } from '../aws/wait';

export type KinesisHandler = (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse | void>;

export interface RetryPolicy {
  /** Retries of a failing batch before it is discarded; -1 retries until it succeeds. */
  readonly retryAttempts: number;
  /**
   * Split a batch the handler threw on in two and settle each half, in order. Splitting is not a retry:
   * it goes on until the failing record is alone, and only then do retries count.
   */
  readonly bisectBatchOnError: boolean;
  /** Read `batchItemFailures` from the handler's answer and retry from the first failed record on. */
  readonly reportBatchItemFailures: boolean;
  /** Wait before the first retry, doubling with each retry up to a second. */
  readonly retryDelayMs: number;
}

export interface BatchSettlement {
  readonly handler: KinesisHandler;
  readonly policy: RetryPolicy;
  /** Hands records given up on to the on-failure destination. */
  readonly discard: (records: KinesisStreamRecord[], error: Error) => Promise<void>;
  /** Once aborted, no new invocation starts and the rest of the batch is left alone. */
  readonly signal: AbortSignal;
}

/** Records still to process after an invocation, and why. */
interface Failure {
  readonly remaining: KinesisStreamRecord[];
  readonly error: Error;
  /** The handler threw (or answered nonsense), rather than reporting some records failed. */
  readonly thrown: boolean;
}

const MAX_RETRY_DELAY_MS = 1000;

/**
 * Settles the records of one batch, in order; resolves when the shard may move on to the next batch: with
 * `true` once every record was handled or discarded, with `false` if the settlement was aborted first.
 */
export async function settleBatch(records: KinesisStreamRecord[], settlement: BatchSettlement): Promise<boolean> {
  const { policy, signal } = settlement;
  let pending = records;
  for (let retries = 0; !signal.aborted; retries++) {
    const failure = await invoke(pending, settlement);
    if (!failure) return true;
    if (failure.thrown && policy.bisectBatchOnError && pending.length > 1) {
      const middle = Math.ceil(pending.length / 2);
      return (await settleBatch(pending.slice(0, middle), settlement)) && settleBatch(pending.slice(middle), settlement);
    }
    pending = failure.remaining;
    if (retries === policy.retryAttempts) {
      await settlement.discard(pending, failure.error);
      return true;
    }
    await pause(Math.min(policy.retryDelayMs * 2 ** retries, MAX_RETRY_DELAY_MS), signal);
  }
  return false;
}

async function invoke(
  records: KinesisStreamRecord[],
  { handler, policy }: BatchSettlement,
): Promise<Failure | undefined> {
  let response: KinesisStreamBatchResponse | void;
  try {
    response = await handler({ Records: records });
  } catch (error) {
    return { remaining: records, error: error instanceof Error ? error : new Error(String(error)), thrown: true };
  }
  return policy.reportBatchItemFailures ? reportedFailure(records, response) : undefined;
}

/**
 * Like Lambda: no or an empty `batchItemFailures` is success; otherwise processing resumes at the failed
 * record with the lowest sequence number (the earliest in the batch). An identifier that names no record of
 * the batch fails the whole batch.
 */
function reportedFailure(
  records: KinesisStreamRecord[],
  response: KinesisStreamBatchResponse | void,
): Failure | undefined {
  const reported = response?.batchItemFailures ?? [];
  if (reported.length === 0) return undefined;
  const positions = reported.map(({ itemIdentifier }) =>
    records.findIndex((record) => record.kinesis.sequenceNumber === itemIdentifier),
  );
  if (positions.includes(-1)) {
    return { remaining: records, error: new Error('batchItemFailures names a record not in the batch'), thrown: true };
  }
  const error = new Error(`The handler reported ${reported.length} of ${records.length} records failed`);
  return { remaining: records.slice(Math.min(...positions)), error, thrown: false };
}
