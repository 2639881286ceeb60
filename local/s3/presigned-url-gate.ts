/**
 * A gate in front of s3rver that checks presigned URLs as Amazon S3 does (signature, expiry, signed headers,
 * the signed SHA-256 of the body) and answers S3's status and XML error when one fails, so that the local
 * stack refuses an expired, tampered or re-used-for-other-bytes URL the way AWS would. Part URLs of a
 * multipart upload are checked the same way; the multipart calls s3rver lacks (ListParts, Abort) or takes
 * on trust (a part for no upload, Complete) are answered here from s3rver's files ({@link ./multipart-uploads.ts}).
 * Everything else, and every request that passes, goes on to s3rver unchanged.
 *
 * @example
 * const gate = await startPresignedUrlGate({ upstream: 'http://127.0.0.1:4569', secrets: new Map([['S3RVER', 'S3RVER']]), storeDirectory: s3rverFolder });
 * // presign against gate.endpoint; stop with gate.close()
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenLocally, stopServer } from '../local-server';
import { NO_SUCH_UPLOAD, S3rverUploads, uploadTarget, type UploadRequestTarget } from './multipart-uploads';
import { BAD_SHA256_DIGEST, checkPresignedRequest, s3ErrorXml, type S3ErrorAnswer } from './presigned-request';

export interface PresignedUrlGateOptions {
  /** s3rver's base URL. */
  readonly upstream: string;
  /** Access key id → secret key of the accounts whose signatures are accepted. */
  readonly secrets: ReadonlyMap<string, string>;
  /** The clock expiry is checked against. @default Date.now */
  readonly now?: () => number;
  /**
   * The largest body held to check its digest before it goes on (S3 allows 5 GiB per PUT; Parley's single
   * PUTs and parts are far smaller). @default 64 MiB
   */
  readonly maxCheckedBodyBytes?: number;
  /** s3rver's `directory`, where it keeps multipart uploads: the gate lists and aborts them there. */
  readonly storeDirectory: string;
}

export interface PresignedUrlGate {
  /** `http://127.0.0.1:{port}`: where S3 clients (and so presigned URLs) point. */
  readonly endpoint: string;
  close(): Promise<void>;
}

const DEFAULT_MAX_CHECKED_BODY = 64 * 1024 * 1024;

export async function startPresignedUrlGate(options: PresignedUrlGateOptions): Promise<PresignedUrlGate> {
  const now = options.now ?? Date.now;
  const maxBody = options.maxCheckedBodyBytes ?? DEFAULT_MAX_CHECKED_BODY;
  const upstream = new URL(options.upstream);

  const answerError = (req: IncomingMessage, res: ServerResponse, error: S3ErrorAnswer) => {
    req.resume();
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    const resource = (req.url ?? '/').split('?')[0]!;
    res.writeHead(error.status, { 'content-type': 'application/xml', 'x-amz-request-id': requestId, connection: 'close' });
    res.end(s3ErrorXml(error, resource, requestId));
  };

  const forward = (req: IncomingMessage, res: ServerResponse, body?: Buffer) => {
    const headers = { ...req.headers, host: upstream.host };
    const onward = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    onward.on('error', (error) => {
      if (!res.headersSent) answerError(req, res, { status: 503, code: 'ServiceUnavailable', message: error.message });
      else res.destroy(error);
    });
    if (body) onward.end(body);
    else req.pipe(onward);
  };

  const uploads = new S3rverUploads(options.storeDirectory);
  const readBody = (req: IncomingMessage) =>
    new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });

  /** Answers a call on an existing multipart upload that s3rver lacks, or checks one it takes on trust; false to go on. */
  const answerUploadCall = async (req: IncomingMessage, res: ServerResponse, target: UploadRequestTarget): Promise<boolean> => {
    if (!(await uploads.exists(target))) {
      answerError(req, res, NO_SUCH_UPLOAD);
    } else if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(await uploads.listPartsXml(target));
    } else if (req.method === 'DELETE') {
      await uploads.abort(target);
      res.writeHead(204).end();
    } else if (req.method === 'POST') {
      const body = await readBody(req);
      const refusal = await uploads.checkCompletion(target, body.toString('utf8'));
      if (refusal) answerError(req, res, refusal);
      else forward(req, res, body);
    } else return false;
    return true;
  };

  const server = createServer((req, res) => {
    const verdict = checkPresignedRequest({ method: req.method ?? 'GET', rawUrl: req.url ?? '/', headers: req.headers }, options.secrets, now());
    if (!verdict.ok) return answerError(req, res, verdict.error);
    const target = uploadTarget(req.url ?? '/');
    if (target) {
      return void answerUploadCall(req, res, target).then(
        (answered) => answered || checkBodyAndForward(req, res, verdict),
        (error: Error) => answerError(req, res, { status: 500, code: 'InternalError', message: error.message }),
      );
    }
    checkBodyAndForward(req, res, verdict);
  });

  const checkBodyAndForward = (req: IncomingMessage, res: ServerResponse, verdict: { presigned: boolean; checksumSha256?: string }) => {
    if (!verdict.presigned || verdict.checksumSha256 === undefined) return forward(req, res);

    // The body must be the one the signed checksum names: hold it, hash it, and only then store it, so that
    // other bytes leave nothing behind (S3 keeps the previous object, or none).
    if (Number(req.headers['content-length'] ?? 0) > maxBody) {
      return answerError(req, res, { status: 400, code: 'EntityTooLarge', message: 'Your proposed upload exceeds the maximum allowed size' });
    }
    const chunks: Buffer[] = [];
    const hash = createHash('sha256');
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (hash.digest('base64') !== verdict.checksumSha256) return answerError(req, res, BAD_SHA256_DIGEST);
      forward(req, res, Buffer.concat(chunks));
    });
    req.on('error', () => res.destroy());
  };
  const port = await listenLocally(server, 0);
  return { endpoint: `http://127.0.0.1:${port}`, close: () => stopServer(server) };
}
