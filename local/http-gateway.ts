/**
 * A local stand-in for an Amazon API Gateway HTTP API (`$default` stage, Lambda proxy integrations with
 * payload format 2.0, a Lambda authorizer with simple responses). Requests get the events, statuses and
 * error bodies API Gateway gives them.
 *
 * @example
 * const gateway = await startHttpGateway({
 *   routes: [{ method: 'DELETE', path: '/v1/devices/{deviceId}', authorized: true, invoke: removeDevice }],
 *   authorizer: { identityHeader: 'Authorization', invoke: httpAuthorizer },
 * });
 * await fetch(`${gateway.url}/v1/devices/2`, { method: 'DELETE', headers: { authorization } });
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { HttpEvent } from './gateway-event-shapes';
import { gatewayId } from './api-gateway-ids';
import { invoke, timedOut, withinDeadline } from './deadline';
import { resolveExecuteApi, type ExecuteApiOptions } from './execute-api';
import { describe, silentLog, type GatewayLog } from './gateway-log';
import { runHttpAuthorizer, type HttpAuthorizer } from './http-authorizer';
import { httpAuthorizerEvent, httpEvent, readHttpRequest } from './http-events';
import { readBody, sendJson, tooLarge } from './http-io';
import { writeIntegrationResponse, type HttpIntegrationResponse } from './http-integration-response';
import { routeTable, type RoutePattern } from './http-route-table';
import { listenLocally, stopServer } from './local-server';
import { identitySourceValue } from './request-parameters';

export type { HttpAuthorizer } from './http-authorizer';
export type { HttpIntegrationResponse } from './http-integration-response';
export type { HttpMethod } from './http-route-table';

/** One route of the API and its integration. */
export interface HttpGatewayRoute extends RoutePattern {
  /** Whether the route is behind the Lambda authorizer. */
  readonly authorized: boolean;
  readonly invoke: (event: HttpEvent) => Promise<HttpIntegrationResponse>;
}

export interface HttpGatewayOptions extends ExecuteApiOptions {
  /** @default 0, a free port */
  readonly port?: number;
  readonly routes: readonly HttpGatewayRoute[];
  /** Required when any route is authorized. */
  readonly authorizer?: HttpAuthorizer;
  /** How long an integration may take before the client gets 503 (30 s on AWS). @default 30 s */
  readonly integrationTimeoutMs?: number;
  /** @default silent */
  readonly log?: GatewayLog;
  /**
   * Routes of the local runtime itself, not of the API (no authorizer, no Lambda event), by
   * `'METHOD /path'`: each gets the request body and answers a status and a JSON body.
   * @default none
   */
  readonly localRoutes?: Readonly<Record<string, LocalRoute>>;
}

/**
 * A route of the local runtime itself, e.g. `POST /local/redrive`: a JSON body, or text of its own
 * `contentType` (as `GET /metrics` answers Prometheus text).
 */
export type LocalRoute = (
  body: Buffer,
) => Promise<{ readonly statusCode: number; readonly body: unknown } | { readonly statusCode: number; readonly text: string; readonly contentType: string }>;

export interface HttpGateway {
  /** `http://127.0.0.1:{port}`: the `$default` stage has no path prefix. */
  readonly url: string;
  readonly apiId: string;
  /** Waits for running requests, then stops listening. */
  close(): Promise<void>;
}

/** API Gateway's limit on request payloads. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

/** Starts an HTTP API on 127.0.0.1. */
export async function startHttpGateway(options: HttpGatewayOptions): Promise<HttpGateway> {
  const { authorizer } = options;
  if (!authorizer && options.routes.some((route) => route.authorized)) {
    throw new Error('Authorized routes need an authorizer');
  }
  const api = resolveExecuteApi(options);
  const log = options.log ?? silentLog;
  const timeoutMs = options.integrationTimeoutMs ?? 30_000;
  const findRoute = routeTable(options.routes);
  const running = new Set<Promise<void>>();

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ids = { api, requestId: gatewayId(), receivedAt: Date.now() };
    const gatewayHeaders = { 'apigw-requestid': ids.requestId };
    const refuse = (statusCode: number, message: string) => sendJson(res, statusCode, { message }, gatewayHeaders);

    const body = await readBody(req, MAX_REQUEST_BYTES);
    if (body === tooLarge) return refuse(413, 'Request Entity Too Large');
    const facts = readHttpRequest(req, body, ids);
    const localRoute = options.localRoutes?.[`${facts.method} ${facts.rawPath}`];
    if (localRoute) {
      const answer = await localRoute(body);
      if ('text' in answer) {
        res.writeHead(answer.statusCode, { 'content-type': answer.contentType, 'content-length': Buffer.byteLength(answer.text) });
        res.end(answer.text);
        return;
      }
      return sendJson(res, answer.statusCode, answer.body);
    }
    const match = findRoute(facts.method, facts.rawPath);
    if (!match) return refuse(404, 'Not Found');
    const logFacts = { route: match.routeKey, requestId: ids.requestId };

    let authorizerContext: Record<string, unknown> | null | undefined;
    if (match.route.authorized && authorizer) {
      const identity = identitySourceValue(req, authorizer.identityHeader);
      if (!identity) return refuse(401, 'Unauthorized');
      const verdict = await runHttpAuthorizer(authorizer, httpAuthorizerEvent(facts, match, [identity]), timeoutMs);
      if (!verdict.admitted) {
        if (verdict.cause) log(describe('http', 'authorizer failed', { ...logFacts, error: verdict.cause }));
        return verdict.statusCode === 403 ? refuse(403, 'Forbidden') : refuse(500, 'Internal Server Error');
      }
      authorizerContext = verdict.context;
    }

    let answer: unknown;
    try {
      answer = await withinDeadline(invoke(match.route.invoke, httpEvent(facts, match, authorizerContext)), timeoutMs);
    } catch (error) {
      log(describe('http', 'integration failed', { ...logFacts, error }));
      return refuse(500, 'Internal Server Error');
    }
    if (answer === timedOut) {
      log(describe('http', 'integration timed out', logFacts));
      return refuse(503, 'Service Unavailable');
    }
    writeIntegrationResponse(res, answer, gatewayHeaders);
  }

  const server = createServer((req, res) => {
    const work = serve(req, res).catch((error: unknown) => {
      log(describe('http', 'request failed', { error }));
      if (!res.headersSent) sendJson(res, 500, { message: 'Internal Server Error' });
    });
    running.add(work);
    void work.finally(() => running.delete(work));
  });
  const port = await listenLocally(server, options.port ?? 0);

  return {
    url: `http://127.0.0.1:${port}`,
    apiId: api.apiId,
    async close() {
      await Promise.allSettled([...running]);
      await stopServer(server);
    },
  };
}
