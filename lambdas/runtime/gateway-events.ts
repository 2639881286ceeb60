/**
 * The fields of API Gateway's events that Parley's handlers read, as our own small schemas: the Powertools
 * parser's full event schemas import the whole zod namespace (every locale, JSON Schema), some 450 KB in
 * each Lambda bundle. Unread fields pass through (`loose`). That the local runtime builds every event
 * field for field as AWS does is checked against the Powertools schemas in test/local/, which need not be
 * bundled.
 */
import * as z from '../protocol/zod';

/** The device a request comes from, as the authorizers establish it. */
export const Caller = z.object({
  userId: z.string().check(z.minLength(1)),
  // Authorizer context values may arrive as strings.
  deviceId: z.coerce.number().check(z.int(), z.positive()),
});
export type Caller = z.infer<typeof Caller>;

/** Header values by name, in the client's casing; API Gateway leaves the field out (or null) when there are none. */
const Headers = z.nullish(z.record(z.string(), z.string()));
/** Path or query parameters by name; a repeated query parameter arrives as its values joined with commas. */
const Parameters = z.nullish(z.record(z.string(), z.optional(z.string())));

/** The `$connect` REQUEST authorizer event of a WebSocket API. */
export const WebSocketAuthorizerEvent = z.looseObject({
  type: z.literal('REQUEST'),
  methodArn: z.string(),
  headers: Headers,
  requestContext: z.looseObject({ connectionId: z.string(), routeKey: z.string() }),
});
export type WebSocketAuthorizerEvent = z.infer<typeof WebSocketAuthorizerEvent>;

/**
 * Route events (`$connect`, `$disconnect`, MESSAGE): headers come only with `$connect` and `$disconnect`, a
 * body only with MESSAGE. They carry the authorizer's context on every route of the connection.
 */
export const WebSocketRouteEvent = z.looseObject({
  headers: Headers,
  body: z.nullish(z.string()),
  requestContext: z.looseObject({
    routeKey: z.string(),
    eventType: z.enum(['CONNECT', 'MESSAGE', 'DISCONNECT']),
    connectionId: z.string(),
    connectedAt: z.number(),
    requestTimeEpoch: z.number(),
    authorizer: z.looseObject(Caller.shape),
  }),
});
export type WebSocketRouteEvent = z.infer<typeof WebSocketRouteEvent>;

/** An HTTP API request, payload format 2.0. */
export const HttpEvent = z.looseObject({
  routeKey: z.string(),
  headers: Headers,
  pathParameters: Parameters,
  queryStringParameters: Parameters,
  body: z.optional(z.string()),
  isBase64Encoded: z.boolean(),
  requestContext: z.looseObject({
    http: z.looseObject({ method: z.string(), path: z.string(), sourceIp: z.string() }),
    /** What the Lambda authorizer answered as its context, for routes behind it. */
    authorizer: z.optional(z.looseObject({ lambda: z.optional(z.unknown()) })),
  }),
});
export type HttpEvent = z.infer<typeof HttpEvent>;

/** The event of an HTTP API Lambda authorizer, payload format 2.0. */
export const HttpAuthorizerEvent = z.looseObject({
  type: z.literal('REQUEST'),
  routeArn: z.string(),
  headers: Headers,
});
export type HttpAuthorizerEvent = z.infer<typeof HttpAuthorizerEvent>;

/** Response of a WebSocket route integration (Lambda proxy). */
export interface WebSocketResponse {
  statusCode: number;
  body?: string;
}

/** Response of an HTTP API route with payload format 2.0. */
export interface HttpResponse {
  statusCode: number;
  headers?: Record<string, string>;
  body?: string;
}

/** IAM-policy answer of a WebSocket REQUEST authorizer. */
export interface WebSocketAuthorizerResponse {
  principalId: string;
  policyDocument: {
    Version: '2012-10-17';
    Statement: { Action: 'execute-api:Invoke'; Effect: 'Allow' | 'Deny'; Resource: string }[];
  };
  context?: Record<string, string | number | boolean>;
}

/** Simple answer of an HTTP API Lambda authorizer (payload format 2.0, simple responses on). */
export interface HttpAuthorizerResponse {
  isAuthorized: boolean;
  context?: Record<string, string | number | boolean>;
}

/** Header lookup is case-insensitive in HTTP; API Gateway passes headers with the client's casing. */
export function headerValue(headers: Record<string, string | undefined> | null | undefined, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers ?? {})) if (key.toLowerCase() === wanted) return value;
  return undefined;
}
