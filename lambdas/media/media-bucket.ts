/**
 * The `media` bucket: client-encrypted blobs under `media/{mediaId}`, reached by devices only through
 * presigned URLs. A PUT URL is bound to the key, the exact length and the SHA-256 of the bytes
 * (`x-amz-checksum-sha256` is signed), so S3 itself refuses any other bytes. Objects expire after
 * `buckets.media.expirationDays` (a lifecycle rule on AWS).
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { buckets } from '../resources';
import { bucketName, type Deps } from '../runtime/deps';
import type { PresignedRequestAnswer } from '../protocol/media-api';

const DAY_MS = 24 * 60 * 60 * 1000;
/** How long a blob is kept, in ms. */
export const MEDIA_LIFETIME_MS = buckets.media.expirationDays * DAY_MS;

/** The object key of a blob. */
export const mediaKey = (mediaId: string): string => `${buckets.media.keyPrefix}${mediaId}`;

export interface StoredBlob {
  readonly size: number;
  /** When it was stored, epoch ms. */
  readonly storedAt: number;
  /** When the lifecycle rule deletes it (at the earliest), epoch ms. */
  readonly expiresAt: number;
}

/** The blob under this id, or undefined when there is none: never uploaded, not finished, or expired. */
export async function findBlob(deps: Deps, mediaId: string): Promise<StoredBlob | undefined> {
  try {
    const head = await deps.clients.s3.send(new HeadObjectCommand({ Bucket: bucketName(deps, 'media'), Key: mediaKey(mediaId) }));
    const storedAt = head.LastModified?.getTime() ?? deps.now();
    const blob = { size: head.ContentLength ?? 0, storedAt, expiresAt: storedAt + MEDIA_LIFETIME_MS };
    // S3's lifecycle deletes lazily, as DynamoDB's TTL does: a blob past its age is gone already.
    return blob.expiresAt > deps.now() ? blob : undefined;
  } catch (error) {
    if ((error as Error).name === 'NotFound' || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
    throw error;
  }
}

/** A presigned PUT of exactly `size` bytes whose SHA-256 is `digest`, to `key`, valid `seconds`. */
export async function presignBlobPut(deps: Deps, key: string, blob: { size: number; digest: string }, seconds: number): Promise<PresignedRequestAnswer> {
  const signingDate = new Date(deps.now());
  const command = new PutObjectCommand({ Bucket: bucketName(deps, 'media'), Key: key, ContentLength: blob.size, ChecksumSHA256: blob.digest });
  const url = await getSignedUrl(deps.clients.s3, command, {
    expiresIn: seconds,
    signingDate,
    // Signed as headers, not hoisted into the query: S3 then checks the length and the checksum of the body.
    signableHeaders: new Set(['content-length']),
    unhoistableHeaders: new Set(['x-amz-checksum-sha256']),
  });
  return {
    method: 'PUT',
    url,
    headers: { 'content-length': String(blob.size), 'x-amz-checksum-sha256': blob.digest },
    expiresAt: signingDate.getTime() + seconds * 1000,
  };
}

/** A presigned GET of a blob, valid `seconds`. */
export async function presignBlobGet(deps: Deps, mediaId: string, seconds: number): Promise<PresignedRequestAnswer> {
  const signingDate = new Date(deps.now());
  const command = new GetObjectCommand({ Bucket: bucketName(deps, 'media'), Key: mediaKey(mediaId) });
  const url = await getSignedUrl(deps.clients.s3, command, { expiresIn: seconds, signingDate });
  return { method: 'GET', url, headers: {}, expiresAt: signingDate.getTime() + seconds * 1000 };
}
