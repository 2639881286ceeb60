/**
 * Granting uploads: check the declared blob against its kind's limit, answer the id of the same blob when
 * it is already stored (dedup by the SHA-256 of the ciphertext), else mint a fresh 128-bit mediaId and a
 * presigned upload bound to the blob's size and digest, or, over 16 MiB, a multipart upload.
 */
import { randomBytes } from 'node:crypto';
import { ParleyError } from '../protocol/errors';
import { MAX_MEDIA_BYTES, SINGLE_PUT_MAX_BYTES, type CreateMediaAnswer, type CreateMediaRequest } from '../protocol/media-api';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { getMediaDigest, putMediaDigest } from '../tables/media-digests';
import { MIN_REUSE_REMAINING_MS, UPLOAD_URL_SECONDS } from './constants';
import { findBlob, MEDIA_LIFETIME_MS, mediaKey, presignBlobPut } from './media-bucket';
import { chargeMedia } from './media-rate-limit';
import { startMultipartUpload } from './multipart-uploads';

/** 128 random bits, base64url: unguessable, so knowing an id is what reading a blob takes. */
export const newMediaId = (): string => randomBytes(16).toString('base64url');

/** Refuses a blob larger than its kind allows, before anything is stored or signed. */
export function checkMediaLimit(request: Pick<CreateMediaRequest, 'size' | 'kind'>): void {
  const maxBytes = MAX_MEDIA_BYTES[request.kind];
  if (request.size > maxBytes) {
    throw new ParleyError('MEDIA_TOO_LARGE', `A ${request.kind} may be at most ${maxBytes} bytes encrypted; this one is ${request.size}`, {
      kind: request.kind,
      maxBytes,
    });
  }
}

/** The blob this digest already names, if it is stored with this size and will live long enough to be reused. */
async function reusableBlob(deps: Deps, request: CreateMediaRequest): Promise<{ mediaId: string; expiresAt: number } | undefined> {
  const known = await getMediaDigest(deps, request.digest);
  if (!known || known.size !== request.size) return undefined;
  const blob = await findBlob(deps, known.mediaId);
  if (!blob || blob.size !== request.size || blob.expiresAt - deps.now() < MIN_REUSE_REMAINING_MS) return undefined;
  return { mediaId: known.mediaId, expiresAt: blob.expiresAt };
}

export async function createUpload(deps: Deps, caller: Caller, request: CreateMediaRequest): Promise<{ created: boolean; answer: CreateMediaAnswer }> {
  checkMediaLimit(request);
  await chargeMedia(deps, caller, 'upload');
  const existing = await reusableBlob(deps, request);
  if (existing) return { created: false, answer: { ...existing, existing: true } };

  const mediaId = newMediaId();
  const expiresAt = deps.now() + MEDIA_LIFETIME_MS;
  await putMediaDigest(deps, { digest: request.digest, mediaId, size: request.size, expiresAt: Math.ceil(expiresAt / 1000) });
  if (request.size > SINGLE_PUT_MAX_BYTES) {
    return { created: true, answer: { mediaId, multipart: await startMultipartUpload(deps, caller, mediaId, request), expiresAt } };
  }
  const upload = await presignBlobPut(deps, mediaKey(mediaId), request, UPLOAD_URL_SECONDS);
  return { created: true, answer: { mediaId, upload, expiresAt } };
}
