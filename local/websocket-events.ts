/**
 * The events a WebSocket API sends its authorizer and route integrations, field for field as API Gateway
 * sends them (Lambda proxy integration). The authorizer event parses with `WebSocketAuthorizerEvent`,
 * route events with `WebSocketRouteEvent` (lambdas/runtime/gateway-events.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocketAuthorizerEvent } from './gateway-event-shapes';
import { traceId } from './api-gateway-ids';
import { executeApiArn, type ExecuteApi } from './execute-api';
import { formatRequestTime } from './request-time';
import {
  headersAsSent,
  lastValues,
  queryParameters,
  sourceIp,
  splitTarget,
  type MultiValues,
} from './request-parameters';
import type { Disconnect } from './websocket-disconnects';

/** What the authorizer allowed, as every later event of the connection carries it. */
export type AuthorizerContext = Readonly<Record<string, string | number | null>>;

/** What the gateway knows of a connection from its upgrade request on. */
export interface ConnectionFacts {
  readonly api: ExecuteApi;
  readonly stage: string;
  /** The host the client connected to; on AWS the API's (or custom) domain name. */
  readonly domainName: string;
  readonly connectionId: string;
  /** Epoch milliseconds of the upgrade request. */
  readonly connectedAt: number;
  readonly sourceIp: string;
  readonly userAgent?: string;
}

/** The upgrade request's headers and query, with the headers API Gateway adds on its way to the integration. */
export interface Handshake {
  readonly headers: MultiValues;
  readonly query: MultiValues;
}

export interface WebSocketRequestContext {
  routeKey: string;
  eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT';
  messageId?: string;
  extendedRequestId: string;
  requestTime: string;
  messageDirection: 'IN';
  stage: string;
  connectedAt: number;
  requestTimeEpoch: number;
  identity: { sourceIp: string; userAgent?: string };
  requestId: string;
  domainName: string;
  connectionId: string;
  apiId: string;
  authorizer?: AuthorizerContext;
  disconnectStatusCode?: number;
  disconnectReason?: string;
}

/** A `$connect`, `$disconnect` or MESSAGE event (the schema `WebSocketRouteEvent` also demands an authorizer). */
export interface WebSocketGatewayEvent {
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  queryStringParameters?: Record<string, string>;
  multiValueQueryStringParameters?: Record<string, string[]>;
  requestContext: WebSocketRequestContext;
  body?: string;
  isBase64Encoded: false;
}

/** One invocation: its request id and when API Gateway received what caused it. */
export interface Invocation {
  readonly requestId: string;
  readonly receivedAt: number;
}

/** Reads the facts and handshake of an upgrade request. */
export function readUpgrade(
  req: IncomingMessage,
  base: Pick<ConnectionFacts, 'api' | 'stage' | 'connectionId' | 'connectedAt'>,
): { facts: ConnectionFacts; handshake: Handshake } {
  const headers = headersAsSent(req);
  const ip = sourceIp(req);
  const facts: ConnectionFacts = {
    ...base,
    domainName: req.headers.host ?? '127.0.0.1',
    sourceIp: ip,
    ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}),
  };
  const handshake: Handshake = {
    headers: {
      ...headers,
      'X-Amzn-Trace-Id': [traceId(base.connectedAt)],
      'X-Forwarded-For': [ip],
      'X-Forwarded-Port': [String(req.socket.localPort ?? '')],
      'X-Forwarded-Proto': ['http'],
    },
    query: queryParameters(splitTarget(req.url ?? '').rawQueryString),
  };
  return { facts, handshake };
}

function requestContext(
  facts: ConnectionFacts,
  routeKey: string,
  eventType: WebSocketRequestContext['eventType'],
  invocation: Invocation,
): WebSocketRequestContext {
  return {
    routeKey,
    eventType,
    // WebSocket events carry the same value in both request ids.
    extendedRequestId: invocation.requestId,
    requestTime: formatRequestTime(invocation.receivedAt),
    messageDirection: 'IN',
    stage: facts.stage,
    connectedAt: facts.connectedAt,
    requestTimeEpoch: invocation.receivedAt,
    identity: { sourceIp: facts.sourceIp, ...(facts.userAgent ? { userAgent: facts.userAgent } : {}) },
    requestId: invocation.requestId,
    domainName: facts.domainName,
    connectionId: facts.connectionId,
    apiId: facts.api.apiId,
  };
}

const withAuthorizer = (context: WebSocketRequestContext, authorizer?: AuthorizerContext) =>
  authorizer ? { ...context, authorizer } : context;

/** The REQUEST authorizer event of the `$connect` route. */
export function authorizerEvent(
  facts: ConnectionFacts,
  handshake: Handshake,
  invocation: Invocation,
): WebSocketAuthorizerEvent {
  const hasQuery = Object.keys(handshake.query).length > 0;
  return {
    type: 'REQUEST',
    methodArn: executeApiArn(facts.api, facts.stage, '$connect'),
    headers: lastValues(handshake.headers),
    multiValueHeaders: handshake.headers,
    queryStringParameters: hasQuery ? lastValues(handshake.query) : null,
    multiValueQueryStringParameters: hasQuery ? handshake.query : null,
    stageVariables: {},
    requestContext: requestContext(facts, '$connect', 'CONNECT', invocation),
    isBase64Encoded: false,
  };
}

/** The `$connect` event: the upgrade request's headers and query, and the authorizer's context. */
export function connectEvent(
  facts: ConnectionFacts,
  handshake: Handshake,
  invocation: Invocation,
  authorizer?: AuthorizerContext,
): WebSocketGatewayEvent {
  const hasQuery = Object.keys(handshake.query).length > 0;
  return {
    headers: lastValues(handshake.headers),
    multiValueHeaders: handshake.headers,
    ...(hasQuery
      ? { queryStringParameters: lastValues(handshake.query), multiValueQueryStringParameters: handshake.query }
      : {}),
    requestContext: withAuthorizer(requestContext(facts, '$connect', 'CONNECT', invocation), authorizer),
    isBase64Encoded: false,
  };
}

/** A MESSAGE event: the frame's text as the body, no headers. */
export function messageEvent(
  facts: ConnectionFacts,
  routeKey: string,
  body: string,
  invocation: Invocation & { readonly messageId: string },
  authorizer?: AuthorizerContext,
): WebSocketGatewayEvent {
  return {
    requestContext: withAuthorizer(
      { ...requestContext(facts, routeKey, 'MESSAGE', invocation), messageId: invocation.messageId },
      authorizer,
    ),
    body,
    isBase64Encoded: false,
  };
}

/**
 * The `$disconnect` event. AWS sends a fixed set of headers here, not the handshake's: the host and three
 * empty ones.
 */
export function disconnectEvent(
  facts: ConnectionFacts,
  disconnect: Disconnect,
  invocation: Invocation,
  authorizer?: AuthorizerContext,
): WebSocketGatewayEvent {
  const headers = { Host: facts.domainName, 'x-api-key': '', 'X-Forwarded-For': '', 'x-restapi': '' };
  return {
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    requestContext: withAuthorizer(
      {
        ...requestContext(facts, '$disconnect', 'DISCONNECT', invocation),
        disconnectStatusCode: disconnect.statusCode,
        disconnectReason: disconnect.reason,
      },
      authorizer,
    ),
    isBase64Encoded: false,
  };
}
