/**
 * Uploading a blob over 16 MiB in parts, resumably. The blob is deterministic (the same key, IV and file
 * give the same bytes), so the SDK stores the key, IV, digest and mediaId of an upload in progress, and an
 * interrupted upload (cancelled, network lost, app restarted) starts again by encrypting the file anew and
 * sending only the parts the server's `/parts` answer does not list with the same SHA-256. Memory holds one
 * part at a time, whatever the file's size.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { MediaCompleteAnswer, MediaPartsAnswer, PresignedRequestAnswer } from '../../lambdas/protocol/media-api';
import type { HttpClient } from '../http-client';
import { getJson, namespaces, putJson, type KeyValueStore } from '../store/key-value-store';
import { encryptingStream } from './attachment-cipher';
import { putBlob, TransferError } from './http-transfer';

/** An upload in progress, as the SDK store keeps it (bytes as base64). */
export interface ResumableUpload {
  readonly mediaId: string;
  readonly key: string;
  readonly iv: string;
  /** SHA-256 of the whole blob. */
  readonly digest: string;
  /** The plaintext's length and the blob's. */
  readonly size: number;
  readonly blobBytes: number;
  readonly partSize: number;
  readonly partCount: number;
  /** When the server forgets the upload (a day after it started), epoch ms: past it, start afresh. */
  readonly resumableUntil: number;
}

/** Part URLs asked for at once: few enough that they are used before they expire (5 minutes) on a fair link. */
export const PARTS_PER_REQUEST = 8;
/** A day, less an hour of margin: the server keeps an unfinished upload a day. */
const RESUMABLE_MS = 23 * 60 * 60 * 1000;

export interface PartProgress {
  /** Blob bytes on the server so far, parts sent earlier included. */
  readonly bytes: number;
  /** The part just sent, when one was (parts the server held already are not sent again). */
  readonly partNumber?: number;
}

/** The store's key for an upload of this file as it is now: another size or modification time is another file. */
export const uploadKeyOf = (path: string, size: number, mtimeMs: number): string => createHash('sha256').update(`${path}\0${size}\0${mtimeMs}`).digest('hex');

export const loadUpload = (store: KeyValueStore, fileKey: string, now: number): Promise<ResumableUpload | undefined> =>
  getJson<ResumableUpload>(store, namespaces.mediaUploads, fileKey).then((upload) => (upload && upload.resumableUntil > now ? upload : undefined));
export const saveUpload = (store: KeyValueStore, fileKey: string, upload: Omit<ResumableUpload, 'resumableUntil'>, now: number): Promise<void> =>
  putJson(store, namespaces.mediaUploads, fileKey, { ...upload, resumableUntil: now + RESUMABLE_MS });
export const forgetUpload = (store: KeyValueStore, fileKey: string): Promise<void> => store.delete(namespaces.mediaUploads, fileKey);

/** The blob of a file, cut into parts: yields each part in one reused buffer, valid until the next is asked for. */
async function* blobParts(path: string, upload: ResumableUpload, signal: AbortSignal | undefined): AsyncGenerator<{ partNumber: number; bytes: Buffer }> {
  const part = Buffer.allocUnsafe(upload.partSize);
  let filled = 0;
  let partNumber = 1;
  const source = createReadStream(path, signal ? { signal } : {});
  const blob = source.pipe(encryptingStream(Buffer.from(upload.key, 'base64'), Buffer.from(upload.iv, 'base64'), upload.size));
  source.on('error', (error) => blob.destroy(error));
  for await (const chunk of blob as AsyncIterable<Buffer>) {
    for (let at = 0; at < chunk.length; ) {
      const copied = chunk.copy(part, filled, at);
      filled += copied;
      at += copied;
      if (filled === part.length) {
        yield { partNumber: partNumber++, bytes: part };
        filled = 0;
      }
    }
  }
  if (filled > 0) yield { partNumber, bytes: part.subarray(0, filled) };
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64');

/** The SHA-256 of each part, in order: one pass over the file, encrypting it. */
async function partDigests(path: string, upload: ResumableUpload, signal: AbortSignal | undefined): Promise<string[]> {
  const digests: string[] = [];
  for await (const { bytes } of blobParts(path, upload, signal)) digests.push(sha256(bytes));
  if (digests.length !== upload.partCount) throw new Error(`the file cuts into ${digests.length} parts, not the ${upload.partCount} the server expects`);
  return digests;
}

/**
 * Sends the parts the server lacks and completes the upload. Rejects with an AbortError on cancel (the
 * upload stays resumable) and with a TransferError when S3 refuses a part for good.
 */
export async function uploadParts(
  http: HttpClient,
  path: string,
  upload: ResumableUpload,
  options: { signal?: AbortSignal; onProgress?: (progress: PartProgress) => void; retries: number },
): Promise<MediaCompleteAnswer> {
  const route = `/v1/media/${encodeURIComponent(upload.mediaId)}`;
  const digests = await partDigests(path, upload, options.signal);
  let held = new Map<number, string>();
  const urls = new Map<number, PresignedRequestAnswer>();
  /** URLs for the next parts from `first` on that the server does not hold, and what it holds. */
  const askUrls = async (first: number) => {
    const numbers = digests.map((_, i) => i + 1).filter((n) => n >= first && held.get(n) !== digests[n - 1]).slice(0, PARTS_PER_REQUEST);
    const answer = await http.request<MediaPartsAnswer>('POST', `${route}/parts`, { parts: numbers.map((n) => ({ partNumber: n, digest: digests[n - 1]! })) });
    held = new Map(answer.uploaded.map((part) => [part.partNumber, part.digest]));
    for (const { partNumber, ...url } of answer.urls) urls.set(partNumber, url);
  };
  await askUrls(1);

  let done = 0;
  for await (const { partNumber, bytes } of blobParts(path, upload, options.signal)) {
    const missing = held.get(partNumber) !== digests[partNumber - 1];
    if (missing) {
      for (let attempt = 0; ; attempt++) {
        let url = urls.get(partNumber);
        if (!url || url.expiresAt <= Date.now()) await askUrls(partNumber);
        url = urls.get(partNumber);
        if (!url) break; // the server holds it after all (sent by an earlier attempt that lost its answer)
        try {
          await putBlob(url, Readable.from([bytes]), {
            ...(options.signal ? { signal: options.signal } : {}),
            onBytes: (bytes) => options.onProgress?.({ bytes: done + bytes }),
          });
          urls.delete(partNumber);
          break;
        } catch (error) {
          if (!(error instanceof TransferError) || attempt >= options.retries || !(error.expired || error.transient)) throw error;
          urls.delete(partNumber);
        }
      }
    }
    done += bytes.length;
    options.onProgress?.({ bytes: done, ...(missing ? { partNumber } : {}) });
  }
  return http.request<MediaCompleteAnswer>('POST', `${route}/complete`);
}
