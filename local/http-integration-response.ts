/**
 * How an HTTP API turns a Lambda integration's answer (payload format 2.0) into the HTTP response: a
 * `statusCode` answer maps field by field (`headers`, `cookies`, `body`, `isBase64Encoded`); an answer
 * without one is taken as a 200 JSON body; an unusable answer is API Gateway's 500.
 */
import type { ServerResponse } from 'node:http';
import type { HttpResponse } from '../lambdas/runtime/gateway-events';
import { sendJson } from './http-io';

/** A payload 2.0 integration response, as handlers may return it. */
export interface HttpIntegrationResponse extends HttpResponse {
  isBase64Encoded?: boolean;
  /** Each becomes a `Set-Cookie` header. */
  cookies?: string[];
}

/** Writes the integration's answer to the client; `gatewayHeaders` are those API Gateway adds to every answer. */
export function writeIntegrationResponse(
  res: ServerResponse,
  answer: unknown,
  gatewayHeaders: Record<string, string>,
): void {
  const response = answer as Partial<Record<keyof HttpIntegrationResponse, unknown>> | null | undefined;
  if (typeof response !== 'object' || response === null || response.statusCode === undefined) {
    // Without a status code the whole answer is the body: API Gateway assumes 200 and JSON.
    const body = typeof answer === 'string' ? answer : JSON.stringify(answer ?? null);
    res.writeHead(200, { ...gatewayHeaders, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  const { statusCode, headers = {}, cookies = [], body = '', isBase64Encoded = false } = response;
  const usable =
    Number.isInteger(statusCode) &&
    typeof headers === 'object' &&
    headers !== null &&
    Array.isArray(cookies) &&
    typeof body === 'string';
  if (!usable) return sendJson(res, 500, { message: 'Internal Server Error' }, gatewayHeaders);

  const bytes = Buffer.from(body, isBase64Encoded === true ? 'base64' : 'utf8');
  const outgoing: Record<string, string | string[] | number> = { ...gatewayHeaders };
  for (const [name, value] of Object.entries(headers)) outgoing[name.toLowerCase()] = String(value);
  if (cookies.length) outgoing['set-cookie'] = cookies.map(String);
  outgoing['content-length'] = bytes.length;
  res.writeHead(statusCode as number, outgoing);
  res.end(bytes);
}
