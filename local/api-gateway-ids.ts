import { randomBytes } from 'node:crypto';

/**
 * An id in the style API Gateway uses for connection ids, request ids and message ids, e.g.
 * `L0SM9cOFvHcCIhw=`: 16 characters of URL-safe base64 ending in `=`. Code that stores, logs or
 * URL-encodes ids (the SDK encodes the `=` in `@connections` paths) meets the same characters as on AWS.
 */
export function gatewayId(): string {
  // 11 random bytes are 15 base64 characters; API Gateway's ids carry the one padding character.
  return `${randomBytes(11).toString('base64url')}=`;
}

/** An API id like API Gateway's: 10 lower-case letters and digits. */
export function randomApiId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(10), (byte) => alphabet[byte % alphabet.length]).join('');
}

/** An X-Ray trace header value as API Gateway adds it to requests: `Root=1-{epoch seconds hex}-{24 hex}`. */
export function traceId(epochMs: number): string {
  return `Root=1-${Math.floor(epochMs / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
}
