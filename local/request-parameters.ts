import type { IncomingMessage } from 'node:http';

/** Header or query values by name, every value kept in arrival order. */
export type MultiValues = Record<string, string[]>;

/**
 * The request's headers as the client sent them, names in their original case: the WebSocket
 * (payload 1.0 style) events show them this way. Node's `req.headers` would lower-case and merge them.
 */
export function headersAsSent(req: IncomingMessage): MultiValues {
  const headers: MultiValues = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    (headers[req.rawHeaders[i]!] ??= []).push(req.rawHeaders[i + 1]!);
  }
  return headers;
}

/** The same headers with lower-case names, as HTTP APIs (payload format 2.0) show them. */
export function lowerCaseHeaders(req: IncomingMessage): MultiValues {
  const headers: MultiValues = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    (headers[req.rawHeaders[i]!.toLowerCase()] ??= []).push(req.rawHeaders[i + 1]!);
  }
  return headers;
}

/** Query parameters, decoded, in the order they came; an empty object when there is no query. */
export function queryParameters(rawQueryString: string): MultiValues {
  const query: MultiValues = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) (query[name] ??= []).push(value);
  return query;
}

/** Payload 1.0 keeps the last of repeated values in the single-value map. */
export const lastValues = (values: MultiValues): Record<string, string> =>
  Object.fromEntries(Object.entries(values).map(([name, all]) => [name, all[all.length - 1]!]));

/** Payload 2.0 joins repeated values with commas. */
export const joinedValues = (values: MultiValues): Record<string, string> =>
  Object.fromEntries(Object.entries(values).map(([name, all]) => [name, all.join(',')]));

/** Splits a request target into the path and the raw query string (without `?`). */
export function splitTarget(url: string): { path: string; rawQueryString: string } {
  const at = url.indexOf('?');
  return at < 0 ? { path: url, rawQueryString: '' } : { path: url.slice(0, at), rawQueryString: url.slice(at + 1) };
}

/**
 * The value of the header an authorizer's identity source names, looked up case-insensitively as HTTP
 * requires. An empty value counts as missing: API Gateway refuses both without invoking the authorizer.
 */
export function identitySourceValue(req: IncomingMessage, headerName: string): string | undefined {
  const value = req.headers[headerName.toLowerCase()];
  const text = Array.isArray(value) ? value.join(',') : value;
  return text ? text : undefined;
}

/** The caller's IP address; IPv4 callers of a dual-stack socket appear without the `::ffff:` prefix. */
export function sourceIp(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '127.0.0.1';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}
