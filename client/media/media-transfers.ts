/**
 * Uploading and downloading attachments: encrypt on the device with a fresh key, upload straight to S3
 * through presigned URLs, and on receipt download, verify the digest and MAC, and only then decrypt into
 * the destination file. Everything streams: memory does not grow with the file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  MAX_MEDIA_BYTES,
  SINGLE_PUT_MAX_BYTES,
  type CreateMediaAnswer,
  type MediaDownloadAnswer,
  type MediaKind,
} from '../../lambdas/protocol/media-api';
import type { HttpClient } from '../http-client';
import type { KeyValueStore } from '../store/key-value-store';
import { MAX_THUMBNAIL_BYTES, type Attachment } from './attachment';
import { BlobVerifier, blobSize, decryptingStream, encryptingStream, newAttachmentKey, newIv } from './attachment-cipher';
import { getBlob, putBlob, TransferError } from './http-transfer';
import { forgetUpload, loadUpload, saveUpload, uploadKeyOf, uploadParts, type ResumableUpload } from './multipart-upload';

export type TransferPhase = 'encrypting' | 'uploading' | 'downloading' | 'decrypting';

export interface TransferProgress {
  readonly phase: TransferPhase;
  /** Bytes of this phase done so far. */
  readonly bytes: number;
  readonly totalBytes: number;
  /** Uploading in parts (over 16 MiB): the part whose PUT just finished. */
  readonly partNumber?: number;
}

export interface TransferControls {
  /** Cancels the transfer: it rejects with an AbortError and leaves no file behind. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: TransferProgress) => void;
}

/**
 * What the app says about a file it sends: its attachment's metadata. `kind` and `mimeType` are guessed
 * from the file name when absent; `fileName` defaults to the file's base name.
 */
export interface AttachmentOptions
  extends TransferControls,
    Partial<Pick<Attachment, 'kind' | 'mimeType' | 'fileName' | 'width' | 'height' | 'durationMs' | 'blurhash' | 'thumbnail'>> {}

/** Attempts after the first, for a URL that expired or a transfer the network broke. */
export const TRANSFER_RETRIES = 3;

/** Raised for a file the server would refuse anyway, before anything is encrypted or sent. */
export class AttachmentTooLargeError extends Error {
  constructor(
    readonly kind: MediaKind,
    readonly maxBytes: number,
    readonly blobBytes: number,
  ) {
    super(`a ${kind} may be at most ${maxBytes} bytes encrypted; this file would be ${blobBytes}`);
    this.name = 'AttachmentTooLargeError';
  }
}

const MIME_BY_EXTENSION: Readonly<Record<string, string>> = {
  jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp', heic: 'image/heic',
  mp4: 'video/mp4', mov: 'video/quicktime', webm: 'video/webm',
  m4a: 'audio/mp4', mp3: 'audio/mpeg', ogg: 'audio/ogg', opus: 'audio/opus', wav: 'audio/wav',
  pdf: 'application/pdf', txt: 'text/plain', zip: 'application/zip',
};

function describeFile(path: string, options: AttachmentOptions): { kind: MediaKind; mimeType: string; fileName: string } {
  const fileName = options.fileName ?? path.split(/[\\/]/).pop() ?? 'file';
  const extension = fileName.includes('.') ? fileName.split('.').pop()!.toLowerCase() : '';
  const mimeType = options.mimeType ?? MIME_BY_EXTENSION[extension] ?? 'application/octet-stream';
  const family = mimeType.split('/')[0];
  const kind = options.kind ?? (family === 'image' ? 'image' : family === 'video' ? 'video' : family === 'audio' ? 'audio' : 'document');
  return { kind, mimeType, fileName };
}

const reporter = (controls: TransferControls, phase: TransferPhase, totalBytes: number) => (bytes: number) =>
  controls.onProgress?.({ phase, bytes, totalBytes });

/** The SHA-256 (and length) of the blob a file encrypts to, computed by encrypting it once, streamed. */
async function blobDigest(path: string, key: Uint8Array, iv: Uint8Array, size: number, controls: TransferControls): Promise<Buffer> {
  const hash = createHash('sha256');
  const progress = reporter(controls, 'encrypting', size);
  let read = 0;
  const source = createReadStream(path, controls.signal ? { signal: controls.signal } : {});
  source.on('data', (chunk) => progress((read += chunk.length)));
  await pipeline(source, encryptingStream(key, iv, size), new Writable({ write: (chunk: Buffer, _e, done) => (hash.update(chunk), done()) }));
  return hash.digest();
}

export class MediaTransfers {
  constructor(
    private readonly http: HttpClient,
    /** Where uploads in progress are kept, so that an interrupted one resumes. */
    private readonly store: KeyValueStore,
  ) {}

  /**
   * Encrypts a file with a fresh key and uploads it (or finds the same blob already stored); resolves with
   * the attachment to put in a message. Over 16 MiB it goes up in parts, and an upload of the same file
   * (same path, size and modification time) that was cancelled or cut off resumes where it stopped.
   */
  async upload(path: string, options: AttachmentOptions = {}): Promise<Attachment> {
    const { kind, mimeType, fileName } = describeFile(path, options);
    const { size, mtimeMs } = await stat(path);
    if (size === 0) throw new Error('an empty file cannot be sent as an attachment');
    if ((options.thumbnail?.length ?? 0) > MAX_THUMBNAIL_BYTES) throw new Error(`a thumbnail travels inside the message: at most ${MAX_THUMBNAIL_BYTES} bytes`);
    const blobBytes = blobSize(size);
    if (blobBytes > MAX_MEDIA_BYTES[kind]) throw new AttachmentTooLargeError(kind, MAX_MEDIA_BYTES[kind], blobBytes);
    const described = { size, kind, mimeType, fileName, ...pick(options, ['width', 'height', 'durationMs', 'blurhash', 'thumbnail']) };
    if (blobBytes > SINGLE_PUT_MAX_BYTES) {
      const { mediaId, key, digest } = await this.uploadInParts(path, uploadKeyOf(path, size, mtimeMs), { size, blobBytes, kind }, options);
      return { mediaId, key, digest, ...described };
    }
    const key = newAttachmentKey();
    const iv = newIv();
    const digest = await blobDigest(path, key, iv, size, options);
    const encrypted = () => createReadStream(path, options.signal ? { signal: options.signal } : {}).pipe(encryptingStream(key, iv, size));
    const request = { size: blobBytes, digest: digest.toString('base64'), kind };

    let answer = await this.http.request<CreateMediaAnswer>('POST', '/v1/media', request);
    for (let attempt = 0; ; attempt++) {
      try {
        if ('upload' in answer) {
          await putBlob(answer.upload, encrypted(), { ...(options.signal ? { signal: options.signal } : {}), onBytes: reporter(options, 'uploading', blobBytes) });
        } else if ('multipart' in answer) {
          throw new Error('the server asked for parts for a blob of at most 16 MiB');
        }
        break;
      } catch (error) {
        if (!(error instanceof TransferError) || attempt >= TRANSFER_RETRIES || !(error.expired || error.transient)) throw error;
        // A new URL when the old one expired; the same digest then names the same blob, so nothing is lost.
        if (error.expired) answer = await this.http.request<CreateMediaAnswer>('POST', '/v1/media', request);
      }
    }
    return { mediaId: answer.mediaId, key, digest, ...described };
  }

  /** Resumes this file's upload in parts if one is under way, else starts one (or reuses the stored blob). */
  private async uploadInParts(
    path: string,
    fileKey: string,
    blob: { size: number; blobBytes: number; kind: MediaKind },
    controls: TransferControls,
  ): Promise<{ mediaId: string; key: Uint8Array; digest: Buffer }> {
    let upload: ResumableUpload | undefined = await loadUpload(this.store, fileKey, Date.now());
    if (!upload) {
      const key = newAttachmentKey();
      const iv = newIv();
      const digest = await blobDigest(path, key, iv, blob.size, controls);
      const answer = await this.http.request<CreateMediaAnswer>('POST', '/v1/media', { size: blob.blobBytes, digest: digest.toString('base64'), kind: blob.kind });
      if (!('multipart' in answer)) {
        if ('existing' in answer) return { mediaId: answer.mediaId, key, digest };
        throw new Error('the server answered a single PUT for a blob over 16 MiB');
      }
      const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
      const started = { mediaId: answer.mediaId, key: b64(key), iv: b64(iv), digest: b64(digest), size: blob.size, blobBytes: blob.blobBytes, ...answer.multipart };
      await saveUpload(this.store, fileKey, started, Date.now());
      upload = { ...started, resumableUntil: Number.MAX_SAFE_INTEGER };
    }
    await uploadParts(this.http, path, upload, {
      ...pick(controls, ['signal']),
      retries: TRANSFER_RETRIES,
      onProgress: ({ bytes, partNumber }) => controls.onProgress?.({ phase: 'uploading', bytes, totalBytes: blob.blobBytes, ...(partNumber ? { partNumber } : {}) }),
    });
    await forgetUpload(this.store, fileKey);
    return { mediaId: upload.mediaId, key: Buffer.from(upload.key, 'base64'), digest: Buffer.from(upload.digest, 'base64') };
  }

  /**
   * Asks the server whether the attachment's blob is still stored with time to live: then it can be sent
   * again as it is (forwarded) and nothing is uploaded. False when it must be uploaded anew from the file.
   */
  async stillStored(attachment: Attachment): Promise<boolean> {
    const request = { size: blobSize(attachment.size), digest: Buffer.from(attachment.digest).toString('base64'), kind: attachment.kind };
    const answer = await this.http.request<CreateMediaAnswer>('POST', '/v1/media', request);
    return 'existing' in answer && answer.mediaId === attachment.mediaId;
  }

  /**
   * Downloads an attachment to `destination`: the blob goes to a temporary file while its digest and MAC
   * are checked, and is decrypted only once both hold, to another temporary file renamed into place at the
   * end. A tampered, truncated or cancelled download rejects and leaves nothing at `destination`.
   */
  async download(attachment: Attachment, destination: string, controls: TransferControls = {}): Promise<string> {
    const blobBytes = blobSize(attachment.size);
    const scratch = `${destination}.${randomBytes(6).toString('hex')}`;
    const blobFile = `${scratch}.blob`;
    const plainFile = `${scratch}.partial`;
    try {
      await this.fetchVerified(attachment, blobFile, blobBytes, controls);
      const source = createReadStream(blobFile, controls.signal ? { signal: controls.signal } : {});
      const progress = reporter(controls, 'decrypting', blobBytes);
      let read = 0;
      source.on('data', (chunk) => progress((read += chunk.length)));
      await pipeline(source, decryptingStream(attachment.key, blobBytes, attachment.size), createWriteStream(plainFile));
      await rename(plainFile, destination);
      return destination;
    } finally {
      await Promise.all([unlink(blobFile).catch(() => undefined), unlink(plainFile).catch(() => undefined)]);
    }
  }

  /** Downloads the blob into `blobFile` and verifies it; retries a broken or expired download, never a tampered one. */
  private async fetchVerified(attachment: Attachment, blobFile: string, blobBytes: number, controls: TransferControls): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const verifier = new BlobVerifier(attachment.key, attachment.digest, blobBytes);
      try {
        const { download } = await this.http.request<MediaDownloadAnswer>('GET', `/v1/media/${encodeURIComponent(attachment.mediaId)}`);
        const body = await getBlob(download.url, { ...pick(controls, ['signal']), onBytes: reporter(controls, 'downloading', blobBytes) });
        await pipeline(body, verifier, createWriteStream(blobFile));
        verifier.verify();
        return;
      } catch (error) {
        if (!(error instanceof TransferError) || attempt >= TRANSFER_RETRIES || !(error.expired || error.transient)) throw error;
      }
    }
  }
}

function pick<T extends object, K extends keyof T>(from: T, keys: readonly K[]): Partial<Pick<T, K>> {
  return Object.fromEntries(keys.filter((key) => from[key] !== undefined).map((key) => [key, from[key]])) as Partial<Pick<T, K>>;
}

