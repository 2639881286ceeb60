/**
 * The event shapes API Gateway sends, from the Powertools parser's own schemas. Every handler parses its
 * event with these, so every test that drives the local runtime also checks its events against AWS's shapes.
 */
import { z } from 'zod';
import {
  APIGatewayProxyEventV2Schema,
  APIGatewayProxyWebsocketEventSchema,
  APIGatewayRequestAuthorizerEventV2Schema,
} from '@aws-lambda-powertools/parser/schemas';

/** The device a request comes from, as the authorizers establish it. */
export const Caller = z.object({
  userId: z.string().min(1),
  // Authorizer context values may arrive as strings.
  deviceId: z.coerce.number().int().positive(),
});
export type Caller = z.infer<typeof Caller>;

/** Powertools' WebSocket schema is the `$connect` REQUEST authorizer event (it has `type` and `methodArn`). */
export const WebSocketAuthorizerEvent = APIGatewayProxyWebsocketEventSchema;
export type WebSocketAuthorizerEvent = z.infer<typeof WebSocketAuthorizerEvent>;

const websocketContext = APIGatewayProxyWebsocketEventSchema.shape.requestContext;

/**
 * Route events (`$connect`, `$disconnect`, MESSAGE) share the authorizer event's request context but have
 * no `type`/`methodArn`; headers come only with `$connect` and `$disconnect`, a body only with MESSAGE.
 * They carry the authorizer's context on every route of the connection.
 */
export const WebSocketRouteEvent = APIGatewayProxyWebsocketEventSchema.omit({
  type: true,
  methodArn: true,
  multiValueHeaders: true,
  queryStringParameters: true,
  multiValueQueryStringParameters: true,
}).extend({
  multiValueHeaders: APIGatewayProxyWebsocketEventSchema.shape.multiValueHeaders.optional(),
  queryStringParameters: APIGatewayProxyWebsocketEventSchema.shape.queryStringParameters.optional(),
  requestContext: websocketContext.extend({
    messageId: z.string().optional(),
    disconnectStatusCode: z.number().optional(),
    disconnectReason: z.string().optional(),
    authorizer: Caller.loose(),
  }),
});
export type WebSocketRouteEvent = z.infer<typeof WebSocketRouteEvent>;

export const HttpEvent = APIGatewayProxyEventV2Schema;
export type HttpEvent = z.infer<typeof HttpEvent>;

export const HttpAuthorizerEvent = APIGatewayRequestAuthorizerEventV2Schema;
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
