/**
 * The multipart-upload calls s3rver 3.7 lacks or takes on trust, answered from its own files as Amazon S3
 * answers them. s3rver creates uploads, stores parts and assembles them, but it has no ListParts (GET
 * `?uploadId`) and no AbortMultipartUpload (DELETE `?uploadId`); it accepts a part for an upload that does
 * not exist (and creates it), and completes with parts that are missing, too small or of another ETag.
 * s3rver keeps an upload under `{directory}/{bucket}/._S3rver_uploads/{uploadId}/`: files `key`,
 * `metadata`, and per part `{n}` (the bytes) and `{n}.md5` (its ETag).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { S3ErrorAnswer } from './presigned-request';

/** S3's smallest part, but for the last one. */
const MIN_PART_BYTES = 5 * 1024 * 1024;

export const NO_SUCH_UPLOAD: S3ErrorAnswer = {
  status: 404,
  code: 'NoSuchUpload',
  message: 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
};
const INVALID_PART: S3ErrorAnswer = {
  status: 400,
  code: 'InvalidPart',
  message: "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
};
const INVALID_PART_ORDER: S3ErrorAnswer = { status: 400, code: 'InvalidPartOrder', message: 'The list of parts was not in ascending order. Parts must be ordered by part number.' };
const ENTITY_TOO_SMALL: S3ErrorAnswer = { status: 400, code: 'EntityTooSmall', message: 'Your proposed upload is smaller than the minimum allowed object size.' };

/** A request that names a multipart upload: path-style `/{bucket}/{key}?uploadId=…`. */
export interface UploadRequestTarget {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
}

/** The upload a request names, or undefined when it names none (no `uploadId` in the query). */
export function uploadTarget(rawUrl: string): UploadRequestTarget | undefined {
  const url = new URL(rawUrl, 'http://s3.local');
  const uploadId = url.searchParams.get('uploadId');
  const [, bucket, ...key] = url.pathname.split('/');
  if (!uploadId || !bucket || key.length === 0) return undefined;
  return { bucket: decodeURIComponent(bucket), key: key.map(decodeURIComponent).join('/'), uploadId };
}

export interface StoredUploadPart {
  readonly partNumber: number;
  readonly size: number;
  readonly etag: string;
  /** SHA-256 of the part, base64. */
  readonly checksumSha256: string;
  readonly lastModified: Date;
}

const sha256Cache = new Map<string, string>();

async function sha256OfFile(file: string, size: number, mtimeMs: number): Promise<string> {
  const cacheKey = `${file}:${size}:${mtimeMs}`;
  const cached = sha256Cache.get(cacheKey);
  if (cached) return cached;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  const digest = hash.digest('base64');
  sha256Cache.set(cacheKey, digest);
  return digest;
}

/** s3rver's files of one multipart upload. */
export class S3rverUploads {
  constructor(private readonly directory: string) {}

  private folder(target: UploadRequestTarget): string {
    // An uploadId is s3rver's 32 hex digits: anything else could climb out of the folder.
    return /^[0-9a-f]{32}$/.test(target.uploadId) ? path.join(this.directory, target.bucket, '._S3rver_uploads', target.uploadId) : '';
  }

  /** Whether the upload exists for this key (S3 refuses a part or a listing for another key, or none). */
  async exists(target: UploadRequestTarget): Promise<boolean> {
    const folder = this.folder(target);
    if (!folder) return false;
    const key = await readFile(path.join(folder, 'key'), 'utf8').catch(() => undefined);
    return key === target.key;
  }

  /** The parts stored so far, in order. */
  async parts(target: UploadRequestTarget): Promise<StoredUploadPart[]> {
    const folder = this.folder(target);
    const names = (await readdir(folder)).filter((name) => /^\d+$/.test(name));
    const parts = await Promise.all(
      names.map(async (name) => {
        const file = path.join(folder, name);
        const [info, md5] = await Promise.all([stat(file), readFile(`${file}.md5`, 'utf8').catch(() => undefined)]);
        if (md5 === undefined) return undefined; // s3rver writes the ETag last: the part is still arriving
        return { partNumber: Number(name), size: info.size, etag: `"${md5}"`, checksumSha256: await sha256OfFile(file, info.size, info.mtimeMs), lastModified: info.mtime };
      }),
    );
    return parts.filter((part): part is StoredUploadPart => part !== undefined).sort((a, b) => a.partNumber - b.partNumber);
  }

  /** ListParts' XML (every part on one page: Parley's uploads have at most 256). */
  async listPartsXml(target: UploadRequestTarget): Promise<string> {
    const parts = await this.parts(target);
    const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
    return (
      '<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Bucket>${escape(target.bucket)}</Bucket><Key>${escape(target.key)}</Key><UploadId>${target.uploadId}</UploadId>` +
      `<PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>${parts.at(-1)?.partNumber ?? 0}</NextPartNumberMarker><MaxParts>1000</MaxParts><IsTruncated>false</IsTruncated>` +
      `<ChecksumAlgorithm>SHA256</ChecksumAlgorithm>` +
      parts
        .map(
          (part) =>
            `<Part><PartNumber>${part.partNumber}</PartNumber><LastModified>${part.lastModified.toISOString()}</LastModified>` +
            `<ETag>${escape(part.etag)}</ETag><Size>${part.size}</Size><ChecksumSHA256>${part.checksumSha256}</ChecksumSHA256></Part>`,
        )
        .join('') +
      '</ListPartsResult>'
    );
  }

  /** AbortMultipartUpload: the parts are deleted. */
  async abort(target: UploadRequestTarget): Promise<void> {
    await rm(this.folder(target), { recursive: true, force: true });
  }

  /**
   * What S3 would refuse in a CompleteMultipartUpload body, or undefined when it would assemble the blob:
   * parts out of order, a part it does not hold or of another ETag or checksum, a part but the last under 5 MiB.
   */
  async checkCompletion(target: UploadRequestTarget, body: string): Promise<S3ErrorAnswer | undefined> {
    const listed = [...body.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map(([, inner]) => ({
      partNumber: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(inner!)?.[1]),
      etag: (/<ETag>([^<]*)<\/ETag>/.exec(inner!)?.[1] ?? '').replace(/&quot;|"/g, ''),
      checksumSha256: /<ChecksumSHA256>([^<]*)<\/ChecksumSHA256>/.exec(inner!)?.[1],
    }));
    if (listed.length === 0) return INVALID_PART;
    if (listed.some((part, i) => i > 0 && part.partNumber <= listed[i - 1]!.partNumber)) return INVALID_PART_ORDER;
    const held = new Map((await this.parts(target)).map((part) => [part.partNumber, part]));
    for (const [i, part] of listed.entries()) {
      const stored = held.get(part.partNumber);
      if (!stored || stored.etag.replace(/"/g, '') !== part.etag) return INVALID_PART;
      if (part.checksumSha256 !== undefined && part.checksumSha256 !== stored.checksumSha256) return INVALID_PART;
      if (i < listed.length - 1 && stored.size < MIN_PART_BYTES) return ENTITY_TOO_SMALL;
    }
    return undefined;
  }
}
