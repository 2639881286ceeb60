/**
 * API Gateway's events in full, as the Powertools parser's schemas define them: what the local runtime builds,
 * field for field. The handlers read only a few fields, through the small schemas of
 * lambdas/runtime/gateway-events.ts that keep their bundles lean; test/local/ parses the events the local
 * gateways build with both.
 */
export type {
  APIGatewayProxyWebsocketEvent as WebSocketAuthorizerEvent,
  APIGatewayProxyEventV2 as HttpEvent,
  APIGatewayRequestAuthorizerEventV2 as HttpAuthorizerEvent,
} from '@aws-lambda-powertools/parser/types';
