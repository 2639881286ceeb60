/**
 * What Amazon S3 checks on a presigned (SigV4 query-string) request before it touches the bucket: the
 * signature over the method, path, query and signed headers, made with a secret key it knows; the expiry;
 * and, for a body signed by `x-amz-checksum-sha256`, that the bytes are the ones named. s3rver checks none
 * of this, so the local runtime checks it in front of s3rver ({@link ./presigned-url-gate.ts}) and answers
 * the status and error code S3 would.
 *
 * @example
 * const verdict = checkPresignedRequest({ method: 'PUT', rawUrl: req.url!, headers: req.headers }, secrets, Date.now());
 * if (!verdict.ok) return sendS3Error(res, verdict.error);
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** An error as S3 answers it: status, `<Code>` and `<Message>`. */
export interface S3ErrorAnswer {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

export interface PresignedRequest {
  readonly method: string;
  /** The request target as sent: path and raw query string. */
  readonly rawUrl: string;
  readonly headers: IncomingHttpHeaders;
}

export type PresignedVerdict =
  /** Not presigned (no `X-Amz-Signature`): header-signed SDK calls go on unchecked. */
  | { readonly ok: true; readonly presigned: false }
  /** Signed right and in time; `checksumSha256` is the signed body digest the bytes must match, if any. */
  | { readonly ok: true; readonly presigned: true; readonly checksumSha256?: string }
  | { readonly ok: false; readonly error: S3ErrorAnswer };

/** S3's longest presigned lifetime: seven days. */
const MAX_EXPIRES_SECONDS = 604_800;
const ALGORITHM = 'AWS4-HMAC-SHA256';

const refuse = (status: number, code: string, message: string): PresignedVerdict => ({ ok: false, error: { status, code, message } });

/** RFC 3986 encoding, as SigV4 canonicalizes query keys and values. */
function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function parseQuery(rawQuery: string): [string, string][] {
  if (!rawQuery) return [];
  return rawQuery.split('&').filter(Boolean).map((pair) => {
    const at = pair.indexOf('=');
    const decode = (text: string) => decodeURIComponent(text.replace(/\+/g, '%20'));
    return at < 0 ? [decode(pair), ''] : [decode(pair.slice(0, at)), decode(pair.slice(at + 1))];
  });
}

const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const hmac = (key: Buffer | string, text: string) => createHmac('sha256', key).update(text, 'utf8').digest();

/** `yyyymmddThhmmssZ` → epoch ms, or NaN. */
function parseAmzDate(text: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : Number.NaN;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value.join(',') : value).trim().replace(/\s+/g, ' ');
}

/**
 * Checks a request as S3 checks a presigned one. `secrets` maps each access key id the emulator accepts to
 * its secret key; `now` is epoch ms.
 */
export function checkPresignedRequest(request: PresignedRequest, secrets: ReadonlyMap<string, string>, now: number): PresignedVerdict {
  const queryAt = request.rawUrl.indexOf('?');
  const rawPath = queryAt < 0 ? request.rawUrl : request.rawUrl.slice(0, queryAt);
  let query: [string, string][];
  try {
    query = parseQuery(queryAt < 0 ? '' : request.rawUrl.slice(queryAt + 1));
  } catch {
    return refuse(400, 'InvalidArgument', 'The query string is not valid percent-encoding.');
  }
  const param = (name: string) => query.find(([key]) => key === name)?.[1];
  const signature = param('X-Amz-Signature');
  if (signature === undefined) return { ok: true, presigned: false };

  const algorithm = param('X-Amz-Algorithm');
  const credential = param('X-Amz-Credential');
  const amzDate = param('X-Amz-Date');
  const expires = param('X-Amz-Expires');
  const signedHeaderList = param('X-Amz-SignedHeaders');
  if (algorithm !== ALGORITHM || !credential || !amzDate || !expires || !signedHeaderList) {
    return refuse(400, 'AuthorizationQueryParametersError', 'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.');
  }
  const [accessKeyId, scopeDate, region, service, terminator, ...rest] = credential.split('/');
  if (!accessKeyId || !scopeDate || !region || service !== 's3' || terminator !== 'aws4_request' || rest.length > 0) {
    return refuse(400, 'AuthorizationQueryParametersError', 'Error parsing the X-Amz-Credential parameter.');
  }
  const secret = secrets.get(accessKeyId);
  if (secret === undefined) return refuse(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  const signedAt = parseAmzDate(amzDate);
  const lifetimeSeconds = Number(expires);
  if (Number.isNaN(signedAt) || !amzDate.startsWith(scopeDate)) {
    return refuse(400, 'AuthorizationQueryParametersError', 'X-Amz-Date must be in the ISO8601 Long Format and match the credential scope date.');
  }
  if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds < 1 || lifetimeSeconds > MAX_EXPIRES_SECONDS) {
    return refuse(400, 'AuthorizationQueryParametersError', 'X-Amz-Expires must be less than a week (in seconds) that is 604800');
  }

  const signedHeaders = signedHeaderList.split(';');
  const canonicalHeaders = signedHeaders.map((name) => `${name}:${headerValue(request.headers, name) ?? ''}\n`).join('');
  const canonicalQuery = query
    .filter(([key]) => key !== 'X-Amz-Signature')
    .map(([key, value]) => [encodeRfc3986(key), encodeRfc3986(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  const payloadHash = param('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
  const canonicalRequest = [request.method, rawPath, canonicalQuery, canonicalHeaders, signedHeaderList, payloadHash].join('\n');
  const scope = `${scopeDate}/${region}/${service}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secret}`, scopeDate), region), service), 'aws4_request');
  const expected = hmac(signingKey, stringToSign);
  const given = /^[0-9a-f]{64}$/.test(signature) ? Buffer.from(signature, 'hex') : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return refuse(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }
  // S3 checks expiry after the signature: a forged URL is told its signature is wrong, not that it expired.
  if (now > signedAt + lifetimeSeconds * 1000) return refuse(403, 'AccessDenied', 'Request has expired');

  if (!signedHeaders.includes('x-amz-checksum-sha256')) return { ok: true, presigned: true };
  const checksum = headerValue(request.headers, 'x-amz-checksum-sha256') ?? '';
  if (Buffer.from(checksum, 'base64').length !== 32 || Buffer.from(checksum, 'base64').toString('base64') !== checksum) {
    return refuse(400, 'InvalidRequest', 'Value for x-amz-checksum-sha256 header is invalid.');
  }
  return { ok: true, presigned: true, checksumSha256: checksum };
}

/** The error S3 answers when the bytes of a request do not have the SHA-256 its signed header named. */
export const BAD_SHA256_DIGEST: S3ErrorAnswer = {
  status: 400,
  code: 'BadDigest',
  message: 'The sha256 you specified did not match the calculated checksum.',
};

/** S3's XML error document. */
export function s3ErrorXml(error: S3ErrorAnswer, resource: string, requestId: string): string {
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${error.code}</Code><Message>${escape(error.message)}</Message>` +
    `<Resource>${escape(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`
  );
}
