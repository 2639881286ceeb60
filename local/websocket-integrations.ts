/**
 * How the WebSocket gateway calls its route integrations (Lambda proxy) and what the client sees of
 * their answers: a two-way route's body comes back as a frame; a failure comes back as API Gateway's own
 * error frame.
 */
import { gatewayId } from './api-gateway-ids';
import { invoke, timedOut, withinDeadline } from './deadline';
import { describe, type GatewayLog } from './gateway-log';
import type { GatewayConnection } from './websocket-connection';
import type { Disconnect } from './websocket-disconnects';
import { disconnectEvent, messageEvent, type WebSocketGatewayEvent } from './websocket-events';
import { selectRoute } from './websocket-route-selection';

/** What a route integration answers; `$connect` may set `Sec-WebSocket-Protocol` in `headers`. */
export interface WebSocketIntegrationResponse {
  statusCode: number;
  body?: string;
  headers?: Record<string, string>;
}

/** A route integration: a Lambda handler, invoked in process. */
export type WebSocketIntegration = (event: WebSocketGatewayEvent) => Promise<WebSocketIntegrationResponse | void>;

/** The routes of a WebSocket API and how they are called. */
export interface WebSocketRouteTable {
  readonly routes: Readonly<Record<string, WebSocketIntegration>>;
  /** Two-way routes send the integration's response body back to the caller. */
  readonly twoWay: (routeKey: string) => boolean;
  /** How long API Gateway waits for an integration (29 s on AWS). */
  readonly timeoutMs: number;
  /** Largest answer a two-way route may send back: one API Gateway message. */
  readonly replyBytes: number;
  readonly log: GatewayLog;
}

/** The outcome of one integration call. */
export type IntegrationOutcome =
  | { readonly kind: 'answered'; readonly response: WebSocketIntegrationResponse | undefined }
  | { readonly kind: 'failed'; readonly error: unknown }
  | { readonly kind: 'timedOut' };

/** Calls the integration of `routeKey` (a missing route answers nothing) within the integration timeout. */
export async function callIntegration(
  table: WebSocketRouteTable,
  routeKey: string,
  event: WebSocketGatewayEvent,
): Promise<IntegrationOutcome> {
  const integration = table.routes[routeKey];
  if (!integration) return { kind: 'answered', response: undefined };
  try {
    const result = await withinDeadline(invoke(integration, event), table.timeoutMs);
    if (result === timedOut) return { kind: 'timedOut' };
    return { kind: 'answered', response: typeof result === 'object' && result !== null ? result : undefined };
  } catch (error) {
    return { kind: 'failed', error };
  }
}

/** The frame API Gateway itself sends a client when a message could not be handled. */
function gatewayErrorFrame(message: string, connectionId: string, requestId: string): string {
  return JSON.stringify({ message, connectionId, requestId });
}

/**
 * Routes one message from the client and answers as API Gateway does. Messages of a connection are
 * delivered concurrently, as separate Lambda invocations are on AWS: nothing waits for an earlier message.
 */
export async function deliverMessage(
  table: WebSocketRouteTable,
  connection: GatewayConnection,
  body: string,
): Promise<void> {
  const invocation = { requestId: gatewayId(), messageId: gatewayId(), receivedAt: Date.now() };
  const reply = (message: string) => connection.send(gatewayErrorFrame(message, connection.id, invocation.requestId));
  const routeKey = selectRoute(body, table.routes);
  if (routeKey === undefined) return reply('Forbidden');

  const event = messageEvent(connection.facts, routeKey, body, invocation, connection.authorizer);
  const outcome = await callIntegration(table, routeKey, event);
  const facts = { route: routeKey, connectionId: connection.id, requestId: invocation.requestId };
  switch (outcome.kind) {
    case 'failed':
      table.log(describe('websocket', 'integration failed', { ...facts, error: outcome.error }));
      return reply('Internal server error');
    case 'timedOut':
      table.log(describe('websocket', 'integration timed out', facts));
      return reply('Endpoint request timed out');
    case 'answered': {
      const responseBody = outcome.response?.body;
      if (!table.twoWay(routeKey) || typeof responseBody !== 'string' || responseBody === '') return;
      // API Gateway cannot send a message past its limit; the caller gets an error, not a cut frame.
      const bytes = Buffer.byteLength(responseBody);
      if (bytes > table.replyBytes) {
        table.log(describe('websocket', 'integration response too large', { ...facts, bytes }));
        return reply('Internal server error');
      }
      connection.send(responseBody);
    }
  }
}

/** Runs `$disconnect` for a closed connection. Best effort, as on AWS: a failure is only logged. */
export async function deliverDisconnect(
  table: WebSocketRouteTable,
  connection: GatewayConnection,
  disconnect: Disconnect,
): Promise<void> {
  const invocation = { requestId: gatewayId(), receivedAt: Date.now() };
  const event = disconnectEvent(connection.facts, disconnect, invocation, connection.authorizer);
  const outcome = await callIntegration(table, '$disconnect', event);
  const facts = { connectionId: connection.id, code: disconnect.statusCode, reason: disconnect.reason };
  table.log(describe('websocket', 'disconnected', facts));
  if (outcome.kind !== 'answered') {
    const error = outcome.kind === 'failed' ? outcome.error : 'timed out';
    table.log(describe('websocket', '$disconnect failed', { connectionId: connection.id, error }));
  }
}
