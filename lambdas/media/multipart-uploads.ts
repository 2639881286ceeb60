/**
 * Multipart uploads of blobs over 16 MiB, for the device that started them: part URLs bound to each part's
 * length and SHA-256, the parts S3 already holds (so an interrupted upload resumes where it stopped), and
 * completion once S3 holds every part at its size. S3 checks each part's SHA-256; nobody but the
 * downloading device checks the whole blob's digest (see docs/protocol.md, "Multipart upload").
 */
import { ParleyError } from '../protocol/errors';
import { MULTIPART_PART_BYTES, type MediaCompleteAnswer, type MediaPartsAnswer, type MediaPartsRequest } from '../protocol/media-api';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { getMediaUpload, markMediaUploadCompleted, putMediaUpload, type MediaUploadRecord } from '../tables/media-uploads';
import { UPLOAD_URL_SECONDS } from './constants';
import { completeMultipartBlob, findBlob, listStoredParts, presignPartPut, startMultipartBlob, type StoredPart } from './media-bucket';

/** How long S3 keeps an unfinished upload's parts (the bucket's lifecycle rule), and so its record. */
const UPLOAD_LIFETIME_SECONDS = 24 * 60 * 60;

const ownerOf = (caller: Caller) => `${caller.userId}.${caller.deviceId}`;

/** The length of part `partNumber` (from 1) of an upload: `partSize`, the last one what is left. */
export const partLength = (upload: Pick<MediaUploadRecord, 'size' | 'partSize' | 'partCount'>, partNumber: number): number =>
  partNumber < upload.partCount ? upload.partSize : upload.size - (upload.partCount - 1) * upload.partSize;

/** Starts a multipart upload of a declared blob under a fresh mediaId; answers how to cut it. */
export async function startMultipartUpload(
  deps: Deps,
  caller: Caller,
  mediaId: string,
  blob: { size: number; digest: string },
): Promise<{ partSize: number; partCount: number }> {
  const partSize = MULTIPART_PART_BYTES;
  const partCount = Math.ceil(blob.size / partSize);
  const uploadId = await startMultipartBlob(deps, mediaId);
  const expiresAt = Math.ceil(deps.now() / 1000) + UPLOAD_LIFETIME_SECONDS;
  await putMediaUpload(deps, { mediaId, uploadId, owner: ownerOf(caller), size: blob.size, digest: blob.digest, partSize, partCount, expiresAt });
  return { partSize, partCount };
}

/** The caller's upload under this id, or NOT_FOUND / FORBIDDEN saying why not. */
async function callersUpload(deps: Deps, caller: Caller, mediaId: string): Promise<MediaUploadRecord> {
  const upload = await getMediaUpload(deps, mediaId);
  if (!upload) throw new ParleyError('NOT_FOUND', 'No multipart upload under this id: it was never started, or it is over a day old and was dropped', { mediaId });
  if (upload.owner !== ownerOf(caller)) throw new ParleyError('FORBIDDEN', 'This multipart upload was started by another device: only that device may add parts or complete it', { mediaId });
  return upload;
}

/** Lists the parts S3 holds and presigns a PUT for each asked-for part it does not hold with that digest. */
export async function grantParts(deps: Deps, caller: Caller, mediaId: string, request: MediaPartsRequest): Promise<MediaPartsAnswer> {
  const upload = await callersUpload(deps, caller, mediaId);
  if (upload.completedAt) throw new ParleyError('BAD_REQUEST', 'This upload is complete: it takes no more parts', { mediaId });
  const beyond = request.parts.filter((part) => part.partNumber > upload.partCount).map((part) => part.partNumber);
  if (beyond.length) throw new ParleyError('BAD_REQUEST', `parts: this upload has ${upload.partCount} parts; there is no part ${beyond.join(', ')}`, { partCount: upload.partCount });
  const stored = await listStoredParts(deps, mediaId, upload.uploadId);
  const held = new Map(stored.map((part) => [part.partNumber, part.digest]));
  const wanted = request.parts.filter((part) => held.get(part.partNumber) !== part.digest);
  const urls = await Promise.all(
    wanted.map(async ({ partNumber, digest }) => ({
      partNumber,
      ...(await presignPartPut(deps, mediaId, upload.uploadId, partNumber, { size: partLength(upload, partNumber), digest }, UPLOAD_URL_SECONDS)),
    })),
  );
  return { uploaded: stored.map(({ partNumber, size, digest }) => ({ partNumber, size, digest })), urls };
}

/** Part numbers an upload lacks, or holds at another length than its own (S3 holds only the last PUT of a number). */
function unusableParts(upload: MediaUploadRecord, stored: readonly StoredPart[]): number[] {
  const sizes = new Map(stored.map((part) => [part.partNumber, part.size]));
  const bad: number[] = [];
  for (let partNumber = 1; partNumber <= upload.partCount; partNumber++) if (sizes.get(partNumber) !== partLength(upload, partNumber)) bad.push(partNumber);
  return bad;
}

/**
 * Completes the upload once S3 holds parts 1…partCount, each at its length (so the blob has the declared
 * size), then checks the stored blob's size. Answers the same again when repeated after success.
 */
export async function completeUpload(deps: Deps, caller: Caller, mediaId: string): Promise<MediaCompleteAnswer> {
  const upload = await callersUpload(deps, caller, mediaId);
  if (!upload.completedAt) {
    const stored = (await listStoredParts(deps, mediaId, upload.uploadId)).filter((part) => part.partNumber <= upload.partCount);
    const missingParts = unusableParts(upload, stored);
    if (missingParts.length) {
      throw new ParleyError('MEDIA_INCOMPLETE', `S3 lacks ${missingParts.length} of the ${upload.partCount} parts: upload them, then complete again`, { missingParts });
    }
    await completeMultipartBlob(deps, mediaId, upload.uploadId, stored);
    await markMediaUploadCompleted(deps, mediaId, deps.now());
  }
  const blob = await findBlob(deps, mediaId);
  // Every part was checked at its length, so this holds unless S3 itself misassembled the blob.
  if (!blob || blob.size !== upload.size) throw new ParleyError('INTERNAL', `The assembled blob has ${blob?.size ?? 0} bytes, not the ${upload.size} declared`, { mediaId });
  return { mediaId, size: blob.size, expiresAt: blob.expiresAt };
}
