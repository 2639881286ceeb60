/**
 * An attachment as it travels inside an end-to-end-encrypted message: where the blob is (`mediaId`), the
 * key that decrypts it and the digest that proves it, and what the app shows before downloading it. The
 * server never sees any of this; only the blob, under its mediaId.
 */
import { MEDIA_KINDS, type MediaKind } from '../../lambdas/protocol/media-api';

export interface Attachment {
  readonly mediaId: string;
  /** 64 bytes: AES-256 key, then HMAC-SHA256 key. */
  readonly key: Uint8Array;
  /** SHA-256 of the encrypted blob. */
  readonly digest: Uint8Array;
  /** The plaintext's length in bytes (the blob is longer: padding, IV and MAC). */
  readonly size: number;
  readonly kind: MediaKind;
  readonly mimeType: string;
  readonly fileName?: string;
  /** Pixels, for images and video. */
  readonly width?: number;
  readonly height?: number;
  /** For audio and video. */
  readonly durationMs?: number;
  /** A BlurHash placeholder to show while the blob downloads. */
  readonly blurhash?: string;
  /** A small preview image (at most {@link MAX_THUMBNAIL_BYTES}), inside the encrypted message itself. */
  readonly thumbnail?: Uint8Array;
}

/** A thumbnail travels inside the message, which must fit a WebSocket frame. */
export const MAX_THUMBNAIL_BYTES = 8 * 1024;

/** The attachment as JSON inside a message content: bytes as base64. */
export interface WireAttachment {
  mediaId: string;
  key: string;
  digest: string;
  size: number;
  kind: string;
  mimeType: string;
  fileName?: string;
  width?: number;
  height?: number;
  durationMs?: number;
  blurhash?: string;
  thumbnail?: string;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const bytesOf = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));

export function attachmentToWire(attachment: Attachment): WireAttachment {
  const { key, digest, thumbnail, ...rest } = attachment;
  return { ...rest, key: b64(key), digest: b64(digest), ...(thumbnail ? { thumbnail: b64(thumbnail) } : {}) };
}

const isCount = (value: unknown) => value === undefined || (typeof value === 'number' && Number.isInteger(value) && value >= 0);
const isText = (value: unknown) => value === undefined || typeof value === 'string';

/** Reads an attachment from a decrypted content; throws on anything malformed (a broken or hostile sender). */
export function attachmentFromWire(wire: Partial<WireAttachment>): Attachment {
  if (typeof wire.mediaId !== 'string' || typeof wire.key !== 'string' || typeof wire.digest !== 'string' || typeof wire.mimeType !== 'string') {
    throw new Error('the attachment lacks mediaId, key, digest or mimeType');
  }
  if (!MEDIA_KINDS.includes(wire.kind as MediaKind)) throw new Error('the attachment kind is unknown');
  if (!(typeof wire.size === 'number' && Number.isSafeInteger(wire.size) && wire.size > 0)) throw new Error('the attachment size is not a positive count');
  if (![wire.width, wire.height, wire.durationMs].every(isCount) || ![wire.fileName, wire.blurhash, wire.thumbnail].every(isText)) {
    throw new Error('the attachment metadata is malformed');
  }
  const key = bytesOf(wire.key);
  const digest = bytesOf(wire.digest);
  if (key.length !== 64 || digest.length !== 32) throw new Error('the attachment key is not 64 bytes or its digest not 32');
  return {
    mediaId: wire.mediaId,
    key,
    digest,
    size: wire.size,
    kind: wire.kind as MediaKind,
    mimeType: wire.mimeType,
    ...(wire.fileName !== undefined ? { fileName: wire.fileName } : {}),
    ...(wire.width !== undefined ? { width: wire.width } : {}),
    ...(wire.height !== undefined ? { height: wire.height } : {}),
    ...(wire.durationMs !== undefined ? { durationMs: wire.durationMs } : {}),
    ...(wire.blurhash !== undefined ? { blurhash: wire.blurhash } : {}),
    ...(wire.thumbnail !== undefined ? { thumbnail: bytesOf(wire.thumbnail) } : {}),
  };
}
