/**
 * A local stand-in for an Amazon API Gateway WebSocket API stage. No AWS tool runs WebSocket APIs
 * locally, so this one is part of Parley: clients connect to it exactly as to `wss://…/stage`, handlers
 * get the events API Gateway sends, and the `@connections` API answers the real SDK client.
 *
 * What it emulates: route selection on `$request.body.action`; a `$connect` REQUEST authorizer with a
 * header identity source; `$connect`/`$disconnect`/`$default` and custom routes, two-way or not; the
 * frame, message, idle, age and new-connection limits; the `@connections` API on the same port.
 *
 * @example
 * const gateway = await startWebSocketGateway({
 *   stage: 'local',
 *   routeSelectionExpression: '$request.body.action',
 *   routes: { $connect: connect, $disconnect: disconnect, $default: unknownAction, HEARTBEAT: heartbeat },
 *   twoWay: (routeKey) => routeKey !== '$connect' && routeKey !== '$disconnect',
 * });
 * new ApiGatewayManagementApiClient({ endpoint: gateway.connectionsEndpoint });
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { connectionIdOf, serveConnectionsRequest, type ConnectionsApi } from './connections-api';
import { resolveExecuteApi, type ExecuteApiOptions } from './execute-api';
import { describe, silentLog, type GatewayLog } from './gateway-log';
import { sendJson } from './http-io';
import { listenLocally, stopServer } from './local-server';
import { InProcessRequestHandler } from './aws/in-process-handler';
import { TokenBucket } from './token-bucket';
import type { WebSocketAuthorizer } from './websocket-authorizer';
import { GatewayConnection } from './websocket-connection';
import { gatewayDisconnects, violationDisconnect } from './websocket-disconnects';
import { FrameInspector } from './websocket-frame-limits';
import { refuseUpgrade, runHandshake, type HandshakeOutcome } from './websocket-handshake';
import {
  deliverDisconnect,
  deliverMessage,
  type WebSocketIntegration,
  type WebSocketRouteTable,
} from './websocket-integrations';
import { actionSelectionExpression } from './websocket-route-selection';

export type { WebSocketAuthorizer } from './websocket-authorizer';
export type { WebSocketIntegration, WebSocketIntegrationResponse } from './websocket-integrations';
export type { WebSocketGatewayEvent, AuthorizerContext } from './websocket-events';

/** API Gateway's WebSocket quotas that a client or handler can run into. */
export interface WebSocketGatewayLimits {
  /** Largest incoming frame; larger closes the connection with 1009. Outgoing messages are fragmented to it. */
  readonly frameBytes: number;
  /** Largest incoming message (fragments reassembled) and `@connections` POST; larger closes with 1009 / answers 413. */
  readonly messageBytes: number;
  /** A connection without messages for this long is closed with 1001. */
  readonly idleTimeoutMs: number;
  /** A connection is closed with 1001 at this age. */
  readonly maxConnectionMs: number;
  /** New connections per second (a token bucket); beyond it the handshake gets 429. */
  readonly newConnectionsPerSecond: number;
  /** How long an integration may take before the client gets API Gateway's timeout answer. */
  readonly integrationTimeoutMs: number;
}

/** The quotas of API Gateway itself. */
export const apiGatewayWebSocketLimits: WebSocketGatewayLimits = {
  frameBytes: 32 * 1024,
  messageBytes: 128 * 1024,
  idleTimeoutMs: 10 * 60 * 1000,
  maxConnectionMs: 2 * 60 * 60 * 1000,
  newConnectionsPerSecond: 500,
  integrationTimeoutMs: 29_000,
};

export interface WebSocketGatewayOptions extends ExecuteApiOptions {
  /** @default 0, a free port */
  readonly port?: number;
  readonly stage: string;
  /** The only expression supported: route on the `action` field of a JSON body. */
  readonly routeSelectionExpression: typeof actionSelectionExpression;
  /** Route key → integration; `$connect`, `$disconnect`, `$default` and custom keys. */
  readonly routes: Readonly<Record<string, WebSocketIntegration>>;
  /** Whether a route is two-way: its integration's response body is sent back to the caller. */
  readonly twoWay: (routeKey: string) => boolean;
  /** The `$connect` authorizer, if the API has one. */
  readonly authorizer?: WebSocketAuthorizer;
  /** @default {@link apiGatewayWebSocketLimits} */
  readonly limits?: Partial<WebSocketGatewayLimits>;
  /** @default silent */
  readonly log?: GatewayLog;
}

export interface WebSocketGateway {
  /** Where clients connect: `ws://127.0.0.1:{port}/{stage}`. */
  readonly url: string;
  /** What `new ApiGatewayManagementApiClient({ endpoint })` is given: `http://127.0.0.1:{port}/{stage}`. */
  readonly connectionsEndpoint: string;
  readonly apiId: string;
  /**
   * For `createClients({ requestHandlers: { connections } })`: gives each signed `@connections` request to
   * this gateway in process instead of over loopback TCP. The URL above keeps answering either way.
   */
  readonly connectionsRequestHandler: InProcessRequestHandler;
  /** Ids of the connections open now. */
  connectionIds(): string[];
  /** Closes every connection (1001, running `$disconnect`), waits for running integrations, stops listening. */
  close(): Promise<void>;
}

/** Clients that do not answer a closing handshake within this long are cut off when the gateway stops. */
const SHUTDOWN_GRACE_MS = 1000;

function messageText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString('utf8');
}

/** Starts a WebSocket API stage on 127.0.0.1. */
export async function startWebSocketGateway(options: WebSocketGatewayOptions): Promise<WebSocketGateway> {
  if (options.routeSelectionExpression !== actionSelectionExpression) {
    throw new Error(`Only the route selection expression ${actionSelectionExpression} is supported`);
  }
  const limits = { ...apiGatewayWebSocketLimits, ...options.limits };
  const log = options.log ?? silentLog;
  const api = resolveExecuteApi(options);
  const { stage } = options;
  const table: WebSocketRouteTable = {
    routes: options.routes,
    twoWay: options.twoWay,
    timeoutMs: limits.integrationTimeoutMs,
    replyBytes: limits.messageBytes,
    log,
  };
  const handshakeSetup = {
    api,
    stage,
    table,
    admission: new TokenBucket(limits.newConnectionsPerSecond),
    ...(options.authorizer ? { authorizer: options.authorizer } : {}),
  };

  const open = new Map<string, GatewayConnection>();
  const handshaking = new Set<Duplex>();
  const running = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    running.add(work);
    void work.finally(() => running.delete(work));
  };
  let stopping = false;

  // ws would pick the client's first subprotocol by itself; API Gateway agrees only to the one $connect names.
  const chosenProtocols = new WeakMap<IncomingMessage, string>();
  const sockets = new WebSocketServer({
    noServer: true,
    maxPayload: limits.messageBytes,
    perMessageDeflate: false,
    handleProtocols: (_offered, req) => chosenProtocols.get(req) ?? false,
  });

  const connectionsApi: ConnectionsApi = {
    stage,
    messageBytes: limits.messageBytes,
    find: (id) => {
      const connection = open.get(id);
      return connection?.isOpen ? connection : undefined;
    },
  };

  const server = createServer((req, res) => {
    const connectionId = connectionIdOf(req.url ?? '/', stage);
    if (connectionId === undefined) {
      req.resume();
      return sendJson(res, 403, { message: 'Forbidden' });
    }
    serveConnectionsRequest(connectionsApi, connectionId, req, res).catch((error: unknown) => {
      log(describe('websocket', '@connections request failed', { connectionId, error }));
      if (!res.headersSent) sendJson(res, 500, { message: 'Internal server error' });
    });
  });

  function accept(ws: WebSocket, socket: Duplex, outcome: Extract<HandshakeOutcome, { accepted: true }>): void {
    const connection = new GatewayConnection(ws, outcome.facts, outcome.authorizer, limits);
    const inspector = new FrameInspector(limits, (violation) => {
      log(describe('websocket', 'client broke a frame limit', { connectionId: connection.id, ...violation }));
      connection.end(violationDisconnect(violation));
    });
    // ws re-emits the bytes that came with the upgrade request (`head`) as 'data' once this callback has
    // returned, so a listener prepended now sees every byte from the client, those included, before ws does.
    socket.prependListener('data', (chunk: Buffer) => inspector.write(chunk));
    open.set(connection.id, connection);
    log(describe('websocket', 'connected', { connectionId: connection.id }));

    ws.on('message', (data, isBinary) => {
      // A message that completes after a limit was broken is never delivered, as on AWS.
      if (!connection.isOpen || isBinary) return;
      connection.markActive();
      track(deliverMessage(table, connection, messageText(data)));
    });
    ws.on('error', (error) => log(describe('websocket', 'socket error', { connectionId: connection.id, error })));
    track(
      connection.closed.then((disconnect) => {
        open.delete(connection.id);
        return deliverDisconnect(table, connection, disconnect);
      }),
    );
  }

  async function handshake(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    handshaking.add(socket);
    // A client that gives up mid-handshake must not bring the process down.
    socket.on('error', () => undefined);
    let outcome: HandshakeOutcome;
    try {
      outcome = await runHandshake(handshakeSetup, req);
    } catch (error) {
      outcome = { accepted: false, statusCode: 500, cause: error };
    } finally {
      handshaking.delete(socket);
    }
    if (!outcome.accepted) {
      log(describe('websocket', 'handshake refused', { status: outcome.statusCode, error: outcome.cause }));
      if (!socket.destroyed) refuseUpgrade(socket, outcome.statusCode);
      return;
    }
    if (socket.destroyed || stopping) {
      log(describe('websocket', 'client left during the handshake', { connectionId: outcome.facts.connectionId }));
      socket.destroy();
      return;
    }
    if (outcome.protocol) chosenProtocols.set(req, outcome.protocol);
    sockets.handleUpgrade(req, socket, head, (ws) => accept(ws, socket, outcome));
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => track(handshake(req, socket, head)));

  const port = await listenLocally(server, options.port ?? 0);

  return {
    url: `ws://127.0.0.1:${port}/${stage}`,
    connectionsEndpoint: `http://127.0.0.1:${port}/${stage}`,
    apiId: api.apiId,
    connectionsRequestHandler: new InProcessRequestHandler(server),
    connectionIds: () => [...open.values()].filter((connection) => connection.isOpen).map((connection) => connection.id),
    async close() {
      stopping = true;
      for (const socket of handshaking) socket.destroy();
      const connections = [...open.values()];
      for (const connection of connections) connection.end(gatewayDisconnects.shutdown);
      const cutOff = setTimeout(() => connections.forEach((connection) => connection.terminate()), SHUTDOWN_GRACE_MS);
      await Promise.all(connections.map((connection) => connection.closed));
      clearTimeout(cutOff);
      await Promise.allSettled([...running]);
      sockets.close();
      await stopServer(server);
    },
  };
}
