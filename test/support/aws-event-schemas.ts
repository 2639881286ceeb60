/**
 * API Gateway's and Lambda's event shapes in full, from the Powertools parser's schemas: what the local
 * runtime must build, field for field. The handlers parse only the fields they read
 * (lambdas/runtime/gateway-events.ts, stream-events.ts); the tests of the local gateways and event sources
 * parse what those build with these too.
 */
import * as z from 'zod';
import {
  APIGatewayProxyEventV2Schema,
  APIGatewayProxyWebsocketEventSchema,
  APIGatewayRequestAuthorizerEventV2Schema,
  DynamoDBStreamSchema,
  KinesisDataStreamSchema,
} from '@aws-lambda-powertools/parser/schemas';

/** Powertools' WebSocket schema is the `$connect` REQUEST authorizer event (it has `type` and `methodArn`). */
export const AwsWebSocketAuthorizerEvent = APIGatewayProxyWebsocketEventSchema;

/**
 * Route events (`$connect`, `$disconnect`, MESSAGE) share the authorizer event's request context but have no
 * `type`/`methodArn`; headers come only with `$connect` and `$disconnect`, a body only with MESSAGE; the
 * authorizer's context comes on every route of the connection.
 */
export const AwsWebSocketRouteEvent = APIGatewayProxyWebsocketEventSchema.omit({
  type: true,
  methodArn: true,
  multiValueHeaders: true,
  queryStringParameters: true,
  multiValueQueryStringParameters: true,
}).extend({
  multiValueHeaders: APIGatewayProxyWebsocketEventSchema.shape.multiValueHeaders.optional(),
  queryStringParameters: APIGatewayProxyWebsocketEventSchema.shape.queryStringParameters.optional(),
  requestContext: APIGatewayProxyWebsocketEventSchema.shape.requestContext.extend({
    messageId: z.string().optional(),
    disconnectStatusCode: z.number().optional(),
    disconnectReason: z.string().optional(),
    authorizer: z.looseObject({ userId: z.string(), deviceId: z.union([z.string(), z.number()]) }),
  }),
});

export const AwsHttpEvent = APIGatewayProxyEventV2Schema;
export const AwsHttpAuthorizerEvent = APIGatewayRequestAuthorizerEventV2Schema;
export const AwsKinesisStreamEvent = KinesisDataStreamSchema;
export const AwsDynamoDbStreamEvent = DynamoDBStreamSchema;

/**
 * Parses `event` with AWS's full shape, which throws on any field the local runtime got wrong, and answers
 * what the handlers' own schema makes of it.
 */
export function parseAsAwsAndHandlers<S extends z.core.$ZodType>(aws: z.ZodType, handlers: S, event: unknown): z.infer<S> {
  aws.parse(event);
  // The handlers' schemas are zod/mini's (lambdas/protocol/zod.ts): same core, parsed through it.
  return z.core.parse(handlers, event) as z.infer<S>;
}
