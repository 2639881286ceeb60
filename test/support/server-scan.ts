/**
 * Everything the local stack holds or sent, as bytes, for scans that prove what the server never has:
 * every item of every DynamoDB table, every record of every Kinesis stream (from TRIM_HORIZON), every
 * object of every S3 bucket, and every SMS and push the SNS endpoint recorded.
 */
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { ParleyLocal } from '../../local/runtime';
import { readStream } from './message-stream';

export interface StoredData {
  /** Where it was found: `dynamodb:<table>`, `kinesis:<stream>`, `s3:<bucket>/<key>`, `sns:<kind>`. */
  readonly source: string;
  readonly bytes: Buffer;
}

/** Every string and binary value of an item, each as its own bytes. */
function valuesOf(value: unknown, into: Buffer[]): void {
  if (typeof value === 'string') into.push(Buffer.from(value, 'utf8'));
  else if (value instanceof Uint8Array) into.push(Buffer.from(value));
  else if (value instanceof Set || Array.isArray(value)) for (const entry of value) valuesOf(entry, into);
  else if (value && typeof value === 'object') for (const [key, entry] of Object.entries(value)) valuesOf(key, into), valuesOf(entry, into);
}

export async function collectServerData(parley: ParleyLocal): Promise<StoredData[]> {
  const found: StoredData[] = [];
  for (const [tableId, TableName] of Object.entries(parley.resources.tables)) {
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await parley.clients.db.send(new ScanCommand({ TableName, ExclusiveStartKey }));
      for (const item of page.Items ?? []) {
        const values: Buffer[] = [];
        valuesOf(item, values);
        for (const bytes of values) found.push({ source: `dynamodb:${tableId}`, bytes });
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
  }
  for (const [streamId, streamName] of Object.entries(parley.resources.streams)) {
    for (const record of await readStream(parley, streamName)) found.push({ source: `kinesis:${streamId}`, bytes: Buffer.from(record.bytes) });
  }
  for (const [bucketId, Bucket] of Object.entries(parley.resources.buckets)) {
    let ContinuationToken: string | undefined;
    do {
      const page = await parley.clients.s3.send(new ListObjectsV2Command({ Bucket, ContinuationToken }));
      for (const object of page.Contents ?? []) {
        const body = await parley.clients.s3.send(new GetObjectCommand({ Bucket, Key: object.Key! }));
        found.push({ source: `s3:${bucketId}/${object.Key}`, bytes: Buffer.from(await body.Body!.transformToByteArray()) });
      }
      ContinuationToken = page.NextContinuationToken;
    } while (ContinuationToken);
  }
  for (const delivery of parley.emulators.sns.outbox) {
    for (const text of [delivery.to, delivery.message, delivery.payload, ...Object.values(delivery.attributes)]) found.push({ source: `sns:${delivery.kind}`, bytes: Buffer.from(text, 'utf8') });
  }
  return found;
}

/**
 * What a scan looks through for one piece of stored data: its bytes as stored, and every base64
 * (standard or URL-safe) and hex text in it decoded, at each alignment the text could start at, so a
 * secret shows as its own bytes however it was encoded and wherever it sits in a longer encoding.
 */
function decodedForms(bytes: Buffer): Buffer[] {
  const forms = [bytes];
  const text = bytes.toString('latin1');
  for (const run of text.match(/[A-Za-z0-9+/_-]{16,}/g) ?? []) {
    const standard = run.replaceAll('-', '+').replaceAll('_', '/');
    for (let shift = 0; shift < 4; shift++) forms.push(Buffer.from(standard.slice(shift, standard.length - ((standard.length - shift) % 4)), 'base64'));
  }
  for (const run of text.match(/[0-9a-fA-F]{24,}/g) ?? []) {
    for (let shift = 0; shift < 2; shift++) forms.push(Buffer.from(run.slice(shift, run.length - ((run.length - shift) % 2)), 'hex'));
  }
  return forms;
}

/** A number from the 8 bytes at `offset` (collisions are possible and checked afterwards). */
const windowKey = (bytes: Buffer, offset: number) => bytes.readUInt32LE(offset) * 0x200000 + (bytes.readUInt32LE(offset + 4) & 0x1fffff);

/**
 * Which of the named secrets the data holds, raw or encoded, and where: one pass over the data with an
 * index of the secrets' first 8 bytes, then a full comparison at each candidate.
 */
export function findSecrets(data: readonly StoredData[], secrets: ReadonlyMap<string, Uint8Array>): Map<string, string[]> {
  const byWindow = new Map<number, [string, Buffer][]>();
  for (const [name, secret] of secrets) {
    // Shorter secrets would match stored bytes by chance.
    if (secret.length < 12) throw new Error(`${name} is too short to scan for (${secret.length} bytes)`);
    const bytes = Buffer.from(secret);
    const key = windowKey(bytes, 0);
    byWindow.set(key, [...(byWindow.get(key) ?? []), [name, bytes]]);
  }
  const found = new Map<string, string[]>();
  for (const entry of data) {
    for (const form of decodedForms(entry.bytes)) {
      for (let offset = 0; offset + 8 <= form.length; offset++) {
        const candidates = byWindow.get(windowKey(form, offset));
        if (!candidates) continue;
        for (const [name, secret] of candidates) {
          if (offset + secret.length <= form.length && form.subarray(offset, offset + secret.length).equals(secret)) {
            const sources = found.get(name) ?? [];
            if (!sources.includes(entry.source)) found.set(name, [...sources, entry.source]);
          }
        }
      }
    }
  }
  return found;
}
