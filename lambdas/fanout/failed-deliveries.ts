/**
 * The `failedDeliveries` bucket: one JSON object per message-stream batch the fanout gave up on after its
 * retries, as Lambda's S3 on-failure destination writes it (the local runtime writes the same shape): the
 * batch's metadata (`KinesisBatchInfo`: shard, sequence numbers) and, in `payload`, the invocation event
 * itself with every record's data. Objects expire after `buckets.failedDeliveries.expirationDays`.
 */
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import * as z from '../protocol/zod';

/** One record of a failed batch, as Lambda handed it to the function. */
const FailedRecord = z.looseObject({
  kinesis: z.looseObject({ partitionKey: z.string(), sequenceNumber: z.string(), data: z.string() }),
});

/** The invocation event; Lambda writes it as JSON text, which is parsed here too. */
const InvocationEvent = z.looseObject({ Records: z.array(FailedRecord) });

// Loose objects: what Lambda writes beyond what is read here (request and response context) is kept when
// an object is written back with fewer records.
export const FailedBatch = z.looseObject({
  KinesisBatchInfo: z.looseObject({ shardId: z.string(), startSequenceNumber: z.string(), endSequenceNumber: z.string() }),
  timestamp: z.string(),
  payload: z.union([z.string(), InvocationEvent]),
});
export type FailedBatch = z.infer<typeof FailedBatch>;

/** A record of a failed batch: where it was on the stream and its data, as it was put. */
export interface FailedStreamRecord {
  readonly partitionKey: string;
  readonly sequenceNumber: string;
  readonly data: Buffer;
}

/** A failed batch as read from the bucket. */
export interface StoredFailedBatch {
  readonly key: string;
  readonly batch: FailedBatch;
  readonly records: readonly FailedStreamRecord[];
}

/** The records of a failed batch, or an error naming the object when it is not a batch Lambda wrote. */
export function recordsOfFailedBatch(key: string, batch: FailedBatch): FailedStreamRecord[] {
  let event: unknown = batch.payload;
  if (typeof event === 'string') {
    try {
      event = JSON.parse(event);
    } catch {
      throw new Error(`${key}: payload is not JSON`);
    }
  }
  const parsed = InvocationEvent.safeParse(event);
  if (!parsed.success) throw new Error(`${key}: payload has no Kinesis records (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  return parsed.data.Records.map(({ kinesis }) => ({
    partitionKey: kinesis.partitionKey,
    sequenceNumber: kinesis.sequenceNumber,
    data: Buffer.from(kinesis.data, 'base64'),
  }));
}

/** Every object key in the bucket, page by page. */
export async function* failedBatchKeys(s3: S3Client, bucket: string): AsyncGenerator<string> {
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) }));
    for (const object of page.Contents ?? []) if (object.Key) yield object.Key;
    token = page.NextContinuationToken;
  } while (token);
}

export async function readFailedBatch(s3: S3Client, bucket: string, key: string): Promise<StoredFailedBatch> {
  const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const text = (await Body?.transformToString('utf8')) ?? '';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${key}: not JSON`);
  }
  const parsed = FailedBatch.safeParse(json);
  if (!parsed.success) throw new Error(`${key}: not a failed Kinesis batch (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  return { key, batch: parsed.data, records: recordsOfFailedBatch(key, parsed.data) };
}

export async function writeFailedBatch(s3: S3Client, bucket: string, key: string, batch: FailedBatch): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(batch), ContentType: 'application/json' }));
}

/**
 * Keeps only `records` of a stored batch (those that could not be handled now), or deletes the object when
 * none is left.
 */
export async function keepOnly(s3: S3Client, bucket: string, stored: StoredFailedBatch, records: readonly FailedStreamRecord[]): Promise<void> {
  if (records.length === 0) {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: stored.key }));
    return;
  }
  const kept = new Set(records.map((record) => record.sequenceNumber));
  const event = InvocationEvent.parse(typeof stored.batch.payload === 'string' ? JSON.parse(stored.batch.payload) : stored.batch.payload);
  const payload = JSON.stringify({ ...event, Records: event.Records.filter((record) => kept.has(record.kinesis.sequenceNumber)) });
  await writeFailedBatch(s3, bucket, stored.key, { ...stored.batch, payload });
}
