/**
 * Moving blobs to and from S3 with presigned URLs: streamed, with a progress callback and an AbortSignal,
 * over node:http(s) so that a PUT carries the exact Content-Length S3 signed (fetch would stream chunked).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PresignedRequestAnswer } from '../../lambdas/protocol/media-api';

/** S3 (or the network) refused a transfer: `status` 0 for a network failure, `code` S3's error code. */
export class TransferError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'TransferError';
  }

  /** The presigned URL was past its expiry: ask for a new one. */
  get expired(): boolean {
    return this.status === 403 && this.code === 'AccessDenied' && /expired/i.test(this.message);
  }

  /** Worth trying again as it is (the network, or S3 busy). */
  get transient(): boolean {
    return this.status === 0 || this.status >= 500 || this.code === 'RequestTimeout';
  }
}

export interface TransferOptions {
  readonly signal?: AbortSignal;
  /** Called with the number of bytes moved so far. */
  readonly onBytes?: (bytes: number) => void;
}

function countBytes(onBytes: ((bytes: number) => void) | undefined): Transform {
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      onBytes?.(bytes);
      callback(null, chunk);
    },
  });
}

async function readS3Error(response: IncomingMessage): Promise<TransferError> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) if (chunks.length < 64) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? `HTTP${response.statusCode}`;
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? `S3 answered ${response.statusCode}`;
  return new TransferError(response.statusCode ?? 0, code, message);
}

function send(method: 'PUT' | 'GET', url: string, headers: Record<string, string>, signal: AbortSignal | undefined) {
  const target = new URL(url);
  const make = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return make(target, { method, headers, ...(signal ? { signal } : {}) });
}

const networkError = (error: Error) => (error.name === 'AbortError' ? error : new TransferError(0, 'NetworkError', error.message));

/** PUTs `body` to a presigned URL with its signed headers; resolves with the answer's ETag. */
export async function putBlob(target: PresignedRequestAnswer, body: Readable, options: TransferOptions = {}): Promise<{ etag?: string }> {
  const req = send('PUT', target.url, { ...target.headers }, options.signal);
  const answered = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  try {
    await Promise.all([pipeline(body, countBytes(options.onBytes), req), answered]);
  } catch (error) {
    // S3 may answer (and close) before the whole body is sent: its answer says why.
    const response = await Promise.race([answered, new Promise<undefined>((resolve) => setTimeout(resolve, 0, undefined))]).catch(() => undefined);
    if (response && (response.statusCode ?? 0) >= 300) throw await readS3Error(response);
    throw networkError(error as Error);
  }
  const response = await answered;
  if ((response.statusCode ?? 0) >= 300) throw await readS3Error(response);
  response.resume();
  const etag = response.headers.etag;
  return etag ? { etag } : {};
}

/** GETs a presigned URL; resolves with the body as a stream once S3 has answered 200 (counted by `onBytes`). */
export async function getBlob(url: string, options: TransferOptions = {}): Promise<Readable> {
  const req = send('GET', url, {}, options.signal);
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', (error) => reject(networkError(error)));
    req.end();
  });
  if ((response.statusCode ?? 0) >= 300) throw await readS3Error(response);
  const counted = countBytes(options.onBytes);
  response.on('error', (error) => counted.destroy(networkError(error)));
  response.on('aborted', () => counted.destroy(new TransferError(0, 'NetworkError', 'the download was cut off')));
  return response.pipe(counted);
}
