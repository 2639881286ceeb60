/**
 * The opening handshake as API Gateway runs it, all before the socket is accepted: the new-connection
 * rate limit, the identity source check, the `$connect` authorizer, then the `$connect` integration.
 * Any of them can refuse the upgrade with an HTTP status; only then does the client get its 101.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { headerValue } from '../lambdas/runtime/gateway-events';
import { gatewayId } from './api-gateway-ids';
import type { ExecuteApi } from './execute-api';
import { identitySourceValue, splitTarget } from './request-parameters';
import type { TokenBucket } from './token-bucket';
import { runWebSocketAuthorizer, type WebSocketAuthorizer } from './websocket-authorizer';
import {
  authorizerEvent,
  connectEvent,
  readUpgrade,
  type AuthorizerContext,
  type ConnectionFacts,
} from './websocket-events';
import { callIntegration, type WebSocketRouteTable } from './websocket-integrations';

export interface HandshakeSetup {
  readonly api: ExecuteApi;
  readonly stage: string;
  readonly table: WebSocketRouteTable;
  readonly authorizer?: WebSocketAuthorizer;
  /** New connections per second. */
  readonly admission: TokenBucket;
}

export type HandshakeOutcome =
  | {
      readonly accepted: true;
      readonly facts: ConnectionFacts;
      readonly authorizer?: AuthorizerContext;
      /** The subprotocol `$connect` chose by answering with a `Sec-WebSocket-Protocol` header. */
      readonly protocol?: string;
    }
  | { readonly accepted: false; readonly statusCode: number; readonly cause?: unknown };

const refused = (statusCode: number, cause?: unknown): HandshakeOutcome => ({
  accepted: false,
  statusCode,
  ...(cause === undefined ? {} : { cause }),
});

/** Runs the handshake of one upgrade request to its verdict. */
export async function runHandshake(setup: HandshakeSetup, req: IncomingMessage): Promise<HandshakeOutcome> {
  const path = splitTarget(req.url ?? '/').path.replace(/\/$/, '');
  if (path !== `/${setup.stage}`) return refused(403);
  if (!setup.admission.take()) return refused(429);

  const connectedAt = Date.now();
  const { facts, handshake } = readUpgrade(req, {
    api: setup.api,
    stage: setup.stage,
    connectionId: gatewayId(),
    connectedAt,
  });
  // The authorizer and $connect see one request, so they share its request id.
  const invocation = { requestId: gatewayId(), receivedAt: connectedAt };

  let context: AuthorizerContext | undefined;
  if (setup.authorizer) {
    if (!identitySourceValue(req, setup.authorizer.identityHeader)) return refused(401);
    const event = authorizerEvent(facts, handshake, invocation);
    const verdict = await runWebSocketAuthorizer(setup.authorizer, event, setup.table.timeoutMs);
    if (!verdict.admitted) return refused(verdict.statusCode, verdict.cause);
    context = verdict.context;
  }

  const outcome = await callIntegration(setup.table, '$connect', connectEvent(facts, handshake, invocation, context));
  if (outcome.kind === 'failed') return refused(500, outcome.error);
  if (outcome.kind === 'timedOut') return refused(504);
  const statusCode = outcome.response?.statusCode ?? 200;
  if (statusCode < 200 || statusCode > 299) return refused(statusCode);
  const protocol = headerValue(outcome.response?.headers, 'Sec-WebSocket-Protocol');
  return {
    accepted: true,
    facts,
    ...(context ? { authorizer: context } : {}),
    ...(protocol ? { protocol } : {}),
  };
}

/** The messages API Gateway puts in the bodies of its own refusals. */
const refusalMessages: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  429: 'Too Many Requests',
  500: 'Internal server error',
  504: 'Endpoint request timed out',
};

/** Answers an upgrade request with an HTTP error instead of 101 and closes the socket. */
export function refuseUpgrade(socket: Duplex, statusCode: number): void {
  const body = JSON.stringify({ message: refusalMessages[statusCode] ?? STATUS_CODES[statusCode] ?? 'Error' });
  socket.end(
    [
      `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode] ?? 'Error'}`,
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
      '',
      body,
    ].join('\r\n'),
  );
}
