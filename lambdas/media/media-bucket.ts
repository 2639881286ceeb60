/**
 * The `media` bucket: client-encrypted blobs under `media/{mediaId}`, reached by devices only through
 * presigned URLs. A PUT URL is bound to the key, the exact length and the SHA-256 of the bytes
 * (`x-amz-checksum-sha256` is signed), so S3 itself refuses any other bytes. Objects expire after
 * `buckets.media.expirationDays` (a lifecycle rule on AWS). Blobs over 16 MiB go up in parts (multipart
 * upload), each part URL bound the same way; S3 aborts an upload left unfinished for a day (lifecycle).
 */
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
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

/** Bytes of known length and SHA-256 (base64): a whole blob, or one part of it. */
export interface SizedBytes {
  readonly size: number;
  readonly digest: string;
}

/**
 * Presigns a PUT or UploadPart of exactly `bytes.size` bytes whose SHA-256 is `bytes.digest`, valid
 * `seconds`. Length and checksum are signed as headers, not hoisted into the query: S3 then checks the
 * length and the checksum of the body, and refuses other bytes.
 */
async function presignSizedPut(deps: Deps, command: PutObjectCommand | UploadPartCommand, bytes: SizedBytes, seconds: number): Promise<PresignedRequestAnswer> {
  const signingDate = new Date(deps.now());
  // The union is one presignable S3 command; getSignedUrl's generics only take one type at a time.
  const url = await getSignedUrl(deps.clients.s3, command as PutObjectCommand, {
    expiresIn: seconds,
    signingDate,
    signableHeaders: new Set(['content-length']),
    unhoistableHeaders: new Set(['x-amz-checksum-sha256']),
  });
  return {
    method: 'PUT',
    url,
    headers: { 'content-length': String(bytes.size), 'x-amz-checksum-sha256': bytes.digest },
    expiresAt: signingDate.getTime() + seconds * 1000,
  };
}

/** A presigned PUT of exactly `blob.size` bytes whose SHA-256 is `blob.digest`, to `key`, valid `seconds`. */
export function presignBlobPut(deps: Deps, key: string, blob: SizedBytes, seconds: number): Promise<PresignedRequestAnswer> {
  const command = new PutObjectCommand({ Bucket: bucketName(deps, 'media'), Key: key, ContentLength: blob.size, ChecksumSHA256: blob.digest });
  return presignSizedPut(deps, command, blob, seconds);
}

/**
 * Starts a multipart upload of a blob; answers S3's uploadId. Its parts carry SHA-256 checksums: S3 checks
 * each part's, but for SHA-256 it keeps only a checksum of the part checksums (COMPOSITE), never the
 * whole blob's, so the blob's digest is checked by the device that downloads it.
 */
export async function startMultipartBlob(deps: Deps, mediaId: string): Promise<string> {
  const started = await deps.clients.s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucketName(deps, 'media'), Key: mediaKey(mediaId), ChecksumAlgorithm: 'SHA256' }),
  );
  if (!started.UploadId) throw new Error('S3 answered CreateMultipartUpload without an UploadId');
  return started.UploadId;
}

/** A presigned UploadPart of part `partNumber`, bound to its length and SHA-256 like a single PUT. */
export function presignPartPut(deps: Deps, mediaId: string, uploadId: string, partNumber: number, part: SizedBytes, seconds: number): Promise<PresignedRequestAnswer> {
  const command = new UploadPartCommand({
    Bucket: bucketName(deps, 'media'),
    Key: mediaKey(mediaId),
    UploadId: uploadId,
    PartNumber: partNumber,
    ContentLength: part.size,
    ChecksumSHA256: part.digest,
  });
  return presignSizedPut(deps, command, part, seconds);
}

/** A part S3 holds: its number, length, SHA-256 (base64) and ETag (needed to complete). */
export interface StoredPart {
  readonly partNumber: number;
  readonly size: number;
  readonly digest: string;
  readonly etag: string;
}

/** Every part S3 holds of an upload, in order (ListParts, page by page). */
export async function listStoredParts(deps: Deps, mediaId: string, uploadId: string): Promise<StoredPart[]> {
  const parts: StoredPart[] = [];
  let marker: string | undefined;
  do {
    const page = await deps.clients.s3.send(
      new ListPartsCommand({ Bucket: bucketName(deps, 'media'), Key: mediaKey(mediaId), UploadId: uploadId, ...(marker ? { PartNumberMarker: marker } : {}) }),
    );
    for (const part of page.Parts ?? []) {
      parts.push({ partNumber: part.PartNumber ?? 0, size: part.Size ?? 0, digest: part.ChecksumSHA256 ?? '', etag: part.ETag ?? '' });
    }
    marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
  } while (marker);
  return parts;
}

/** Assembles the blob from these parts (all of them, in order). */
export async function completeMultipartBlob(deps: Deps, mediaId: string, uploadId: string, parts: readonly StoredPart[]): Promise<void> {
  await deps.clients.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucketName(deps, 'media'),
      Key: mediaKey(mediaId),
      UploadId: uploadId,
      MultipartUpload: { Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag, ChecksumSHA256: part.digest })) },
    }),
  );
}

/** A presigned GET of a blob, valid `seconds`. */
export async function presignBlobGet(deps: Deps, mediaId: string, seconds: number): Promise<PresignedRequestAnswer> {
  const signingDate = new Date(deps.now());
  const command = new GetObjectCommand({ Bucket: bucketName(deps, 'media'), Key: mediaKey(mediaId) });
  const url = await getSignedUrl(deps.clients.s3, command, { expiresIn: seconds, signingDate });
  return { method: 'GET', url, headers: {}, expiresAt: signingDate.getTime() + seconds * 1000 };
}
