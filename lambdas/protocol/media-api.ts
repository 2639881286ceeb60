/**
 * The media routes' wire shapes. Media is encrypted on the device; the server hands out short-lived
 * presigned S3 URLs and never sees a key or a plaintext byte. Sizes and digests are those of the encrypted
 * blob, the bytes that are stored (see docs/protocol.md, "Media").
 */
import * as z from './zod';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** What an attachment is: each kind has its own size limit. */
export const MEDIA_KINDS = ['image', 'video', 'audio', 'document'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

/**
 * The largest encrypted blob of each kind, in bytes, refused before any upload with MEDIA_TOO_LARGE: photos
 * and voice notes fit one PUT; video and documents go up to 2 GiB in parts.
 */
export const MAX_MEDIA_BYTES: Readonly<Record<MediaKind, number>> = {
  image: 16 * MiB,
  audio: 16 * MiB,
  video: 2 * GiB,
  document: 2 * GiB,
};

/** Blobs up to this size are uploaded with one presigned PUT; larger ones in parts (S3 multipart upload). */
export const SINGLE_PUT_MAX_BYTES = 16 * MiB;

/**
 * The size of every part of a multipart upload but the last (S3 requires at least 5 MiB), as the server
 * answers it: clients use the answer's `partSize`, not this number. 2 GiB is 256 parts.
 */
export const MULTIPART_PART_BYTES = 8 * MiB;

/** A media id: 128 random bits, base64url without padding (22 characters). */
export const MediaId = z.string().check(z.regex(/^[A-Za-z0-9_-]{22}$/, 'mediaId: 22 base64url characters (128 bits)'));

/** SHA-256 as strict base64 (44 characters, one `=`), as S3's `x-amz-checksum-sha256` takes it. */
export const Sha256Base64 = z.string().check(z.regex(/^[A-Za-z0-9+/]{43}=$/, 'base64 of a 32-byte SHA-256 digest (44 characters)'));

/** `POST /v1/media`: asks to store an encrypted blob of this size and digest. */
export const CreateMediaRequest = z.strictObject({
  /** The encrypted blob's length in bytes. */
  size: z.number().check(z.int('size: whole bytes'), z.positive('size: at least one byte'), z.maximum(Number.MAX_SAFE_INTEGER)),
  /** SHA-256 of the encrypted blob, base64. */
  digest: Sha256Base64,
  kind: z.enum(MEDIA_KINDS, { message: `kind: one of ${MEDIA_KINDS.join(', ')}` }),
});
export type CreateMediaRequest = z.infer<typeof CreateMediaRequest>;

/** A presigned request the device makes itself, straight to S3: send exactly these headers. */
export interface PresignedRequestAnswer {
  readonly method: 'PUT' | 'GET';
  readonly url: string;
  /** Headers that are part of the signature and must be sent as given (for a PUT: the length and the checksum). */
  readonly headers: Readonly<Record<string, string>>;
  /** When the URL stops working, epoch ms: ask for a new one after it. */
  readonly expiresAt: number;
}

/** The answer to `POST /v1/media`. */
export type CreateMediaAnswer =
  /** The server already holds a blob with this digest and size: reuse its id, upload nothing. */
  | { readonly mediaId: string; readonly existing: true; readonly expiresAt: number }
  /** Upload the blob with this one PUT; `expiresAt` is when the stored blob will be deleted. */
  | { readonly mediaId: string; readonly upload: PresignedRequestAnswer; readonly expiresAt: number }
  /** Upload the blob in `partCount` parts of `partSize` bytes (the last one shorter) through `/parts`, then `/complete`. */
  | { readonly mediaId: string; readonly multipart: { readonly partSize: number; readonly partCount: number }; readonly expiresAt: number };

/** `POST /v1/media/{mediaId}/parts`: the SHA-256 of each part to upload (or resume); answers which are there and URLs for the rest. */
export const MediaPartsRequest = z.strictObject({
  parts: z
    .array(z.strictObject({ partNumber: z.number().check(z.int(), z.minimum(1), z.maximum(10_000)), digest: Sha256Base64 }))
    .check(z.minLength(1, 'parts: at least one'), z.maxLength(100, 'parts: at most 100 per request')),
});
export type MediaPartsRequest = z.infer<typeof MediaPartsRequest>;

/** The answer to `/parts`. */
export interface MediaPartsAnswer {
  /** Every part S3 already has of this upload, by number, with its length and SHA-256 (base64). */
  readonly uploaded: readonly { readonly partNumber: number; readonly size: number; readonly digest: string }[];
  /** A presigned PUT for each asked-for part that S3 does not have with the asked-for digest. */
  readonly urls: readonly (PresignedRequestAnswer & { readonly partNumber: number })[];
}

/** The answer to `/complete`: the blob is stored, under its mediaId, until `expiresAt`. */
export interface MediaCompleteAnswer {
  readonly mediaId: string;
  readonly size: number;
  readonly expiresAt: number;
}

/** `GET /v1/media/{mediaId}`: where to download the blob from. */
export interface MediaDownloadAnswer {
  readonly mediaId: string;
  readonly size: number;
  readonly download: PresignedRequestAnswer;
}
