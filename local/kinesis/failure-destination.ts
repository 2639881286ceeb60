/**
 * Lambda's S3 on-failure destination for a Kinesis event source mapping: each batch given up on becomes one
 * JSON object in the bucket, with the batch's metadata and the whole invocation event as `payload`, under
 * a key shaped as Lambda shapes it (`aws/lambda/<mapping>/<shard>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>`).
 * In the local S3 emulator the objects are files, so with `--data` they outlive a restart.
 */
import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { writeFailedBatch, type FailedBatch } from '../../lambdas/fanout/failed-deliveries';
import type { KinesisBatchFailure } from '../kinesis-event-source';

export interface S3FailureDestinationOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  /** Stands for the event source mapping's UUID in object keys: one per consuming function. */
  readonly mappingId: string;
  /** What `requestContext.functionArn` names. */
  readonly functionArn: string;
  /** The clock of the object's `timestamp` and key. */
  readonly now: () => number;
}

/** The batch as Lambda writes it to an S3 destination. */
export function failedBatchOf(failure: KinesisBatchFailure, functionArn: string, at: Date): FailedBatch {
  const first = failure.records[0];
  const last = failure.records.at(-1);
  const arrival = (seconds: number | undefined) => new Date((seconds ?? 0) * 1000).toISOString();
  return {
    requestContext: { requestId: randomUUID(), functionArn, condition: 'RetryAttemptsExhausted', approximateInvokeCount: 1 },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: at.toISOString(),
    KinesisBatchInfo: {
      shardId: failure.shardId,
      startSequenceNumber: first?.kinesis.sequenceNumber ?? '',
      endSequenceNumber: last?.kinesis.sequenceNumber ?? '',
      approximateArrivalOfFirstRecord: arrival(first?.kinesis.approximateArrivalTimestamp),
      approximateArrivalOfLastRecord: arrival(last?.kinesis.approximateArrivalTimestamp),
      batchSize: failure.records.length,
      streamArn: first?.eventSourceARN ?? '',
    },
    payload: JSON.stringify({ Records: failure.records }),
  };
}

export function failedBatchKey(mappingId: string, shardId: string, at: Date): string {
  const iso = at.toISOString();
  const [date = ''] = iso.split('T');
  const time = iso.slice(0, 19).replace(/:/g, '.');
  return `aws/lambda/${mappingId}/${shardId}/${date.replace(/-/g, '/')}/${time}-${randomUUID()}`;
}

/** An `onFailure` for `startKinesisEventSource` that writes each batch to the bucket. */
export function s3FailureDestination(options: S3FailureDestinationOptions): (failure: KinesisBatchFailure) => Promise<void> {
  return async (failure) => {
    const at = new Date(options.now());
    const key = failedBatchKey(options.mappingId, failure.shardId, at);
    await writeFailedBatch(options.s3, options.bucket, key, failedBatchOf(failure, options.functionArn, at));
  };
}
