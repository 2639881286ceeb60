/**
 * Redrive: the records of the batches the fanout gave up on (the `failedDeliveries` bucket) go back on the
 * message stream, with their conversation as partition key, so the fanout delivers them again. That is
 * idempotent: a device queue takes a record's item once (its key is the record's position), so a device
 * that already had the message gets nothing new. A message that has waited as long as a queue would keep it
 * (30 days), or every message when told to give up, is answered instead with a `failed` receipt per
 * recipient device, exactly as a message that expired in a device queue is; a message its sender deleted
 * for everyone meanwhile (REVOKE) is dropped. An object is deleted only once
 * all its records are back on the stream or answered; a crash halfway replays them again, harmlessly.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { StreamRecord } from '../protocol/stream-records';
import type { Deps } from '../runtime/deps';
import { putOnMessageStream } from '../send/message-stream';
import { isRevoked } from '../tables/accepted-messages';
import { QUEUE_TTL_MS } from '../tables/device-queues';
import { queueItemsOfMessage } from './delivery';
import { failedBatchKeys, keepOnly, readFailedBatch, type FailedStreamRecord } from './failed-deliveries';
import { reportExpired } from './queue-expiry';

export interface RedriveOptions {
  /** The `failedDeliveries` bucket's name. */
  readonly bucket: string;
  /** Answer every failed message with a `failed` receipt now, replaying nothing. @default false */
  readonly giveUp?: boolean;
  /** Only count what would be done; change nothing. @default false */
  readonly dryRun?: boolean;
  /** Progress, one line per batch: object keys, counts and sequence numbers, never a record's content. @default silent */
  readonly log?: (line: string) => void;
}

export interface RedriveReport {
  /** Failed-batch objects read. */
  readonly batches: number;
  /** Records put back on the message stream. */
  readonly replayed: number;
  /** Messages answered with `failed` receipts to their senders instead. */
  readonly failedReceipted: number;
  /** Receipts and group records too old to matter any more, dropped without an answer. */
  readonly expired: number;
  /** Messages their sender deleted for everyone meanwhile, dropped without an answer. */
  readonly revoked: number;
  /** Records left in the bucket: they are not a record of the message stream, or their object is unreadable. */
  readonly left: number;
}

type Verdict = 'replay' | 'answerFailed' | 'expired' | 'revoked' | 'unreadable';

/** What redrive does with one record, decided from its content and age. */
export function verdictOf(data: Buffer, now: number, giveUp: boolean): { verdict: Verdict; record?: StreamRecord } {
  let record: StreamRecord;
  try {
    record = StreamRecord.parse(JSON.parse(data.toString('utf8')));
  } catch {
    return { verdict: 'unreadable' };
  }
  if (!giveUp && now - record.serverTs < QUEUE_TTL_MS) return { verdict: 'replay', record };
  // Only a 1:1 message has devices to answer for; a group's failed receipts are not sent to its senders
  // (lambdas/fanout/group-receipts.ts), and a stale receipt or group change has no one waiting for it.
  return { verdict: record.kind === 'message' ? 'answerFailed' : 'expired', record };
}

/** {@link verdictOf}, and a message its sender deleted for everyone is dropped: never delivered, never answered failed. */
async function verdictNow(deps: Deps, data: Buffer, giveUp: boolean): Promise<{ verdict: Verdict; record?: StreamRecord }> {
  const decided = verdictOf(data, deps.now(), giveUp);
  const { record } = decided;
  const isMessage = record?.kind === 'message' || record?.kind === 'groupMessage';
  if (isMessage && decided.verdict !== 'expired' && (await isRevoked(deps, record.msgId))) return { verdict: 'revoked', record };
  return decided;
}

/**
 * Replays or answers every record in the bucket. `deps` needs the S3 and Kinesis clients and the message
 * stream's name in its environment (`MESSAGE_STREAM`); `deps.now` decides which records are too old.
 */
export async function redriveFailedRecords(deps: Deps, options: RedriveOptions): Promise<RedriveReport> {
  const { bucket, giveUp = false, dryRun = false } = options;
  const log = options.log ?? (() => undefined);
  const s3: S3Client = deps.clients.s3;
  const counts = { batches: 0, replayed: 0, failedReceipted: 0, expired: 0, revoked: 0, left: 0 };
  for await (const key of failedBatchKeys(s3, bucket)) {
    counts.batches++;
    let stored;
    try {
      stored = await readFailedBatch(s3, bucket, key);
    } catch (error) {
      // Left where it is for a person to look at; the next objects are still redriven.
      log(`Left ${(error as Error).message}`);
      counts.left++;
      continue;
    }
    const left: FailedStreamRecord[] = [];
    const done = { replay: 0, answerFailed: 0, expired: 0, revoked: 0 };
    for (const failed of stored.records) {
      const { verdict, record } = await verdictNow(deps, failed.data, giveUp);
      if (verdict === 'unreadable') {
        left.push(failed);
        continue;
      }
      done[verdict]++;
      if (dryRun) continue;
      if (verdict === 'replay') await putOnMessageStream(deps, record!);
      if (verdict === 'answerFailed' && record!.kind === 'message') await reportExpired(deps, queueItemsOfMessage(record!));
    }
    counts.replayed += done.replay;
    counts.failedReceipted += done.answerFailed;
    counts.expired += done.expired;
    counts.revoked += done.revoked;
    counts.left += left.length;
    const unreadable = left.map((record) => record.sequenceNumber).join(', ');
    log(
      `${dryRun ? 'Would redrive' : 'Redrove'} ${key} (${stored.batch.KinesisBatchInfo.shardId}): ${done.replay} replayed, ` +
        `${done.answerFailed} answered failed, ${done.expired} expired, ${done.revoked} revoked` +
        (left.length > 0 ? `, ${left.length} left (not stream records: ${unreadable})` : ''),
    );
    if (!dryRun) await keepOnly(s3, bucket, stored, left);
  }
  return counts;
}
