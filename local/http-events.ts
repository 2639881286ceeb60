/**
 * The events an HTTP API sends its Lambda authorizer and integrations, payload format 2.0, as API Gateway
 * builds them: they parse with `HttpAuthorizerEvent` and `HttpEvent` (lambdas/runtime/gateway-events.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { HttpAuthorizerEvent, HttpEvent } from './gateway-event-shapes';
import { traceId } from './api-gateway-ids';
import { executeApiArn, type ExecuteApi } from './execute-api';
import type { HttpMethod, RouteMatch, RoutePattern } from './http-route-table';
import { formatRequestTime } from './request-time';
import { joinedValues, lowerCaseHeaders, queryParameters, sourceIp, splitTarget } from './request-parameters';

/** HTTP APIs always have this stage (a custom stage would prefix the path). */
const STAGE = '$default';

/** One request as API Gateway sees it before routing. */
export interface HttpRequestFacts {
  readonly api: ExecuteApi;
  readonly requestId: string;
  readonly receivedAt: number;
  readonly method: HttpMethod;
  readonly rawPath: string;
  readonly rawQueryString: string;
  /** Lower-case names, repeated headers joined with commas, `cookie` moved to {@link cookies}. */
  readonly headers: Record<string, string>;
  readonly cookies: string[];
  readonly sourceIp: string;
  readonly body: Buffer;
}

/** Reads a request's facts; the headers include the ones API Gateway adds (`x-forwarded-*`, `x-amzn-trace-id`). */
export function readHttpRequest(
  req: IncomingMessage,
  body: Buffer,
  ids: { api: ExecuteApi; requestId: string; receivedAt: number },
): HttpRequestFacts {
  const { path, rawQueryString } = splitTarget(req.url ?? '/');
  const { cookie, ...headers } = joinedValues(lowerCaseHeaders(req));
  const ip = sourceIp(req);
  return {
    ...ids,
    method: (req.method ?? 'GET') as HttpMethod,
    rawPath: path,
    rawQueryString,
    headers: {
      ...headers,
      'x-amzn-trace-id': traceId(ids.receivedAt),
      'x-forwarded-for': ip,
      'x-forwarded-port': String(req.socket.localPort ?? ''),
      'x-forwarded-proto': 'http',
    },
    // Payload 2.0 moves cookies out of the headers into their own list.
    cookies: cookie ? cookie.split(/;\s*/).filter(Boolean) : [],
    sourceIp: ip,
    body,
  };
}

/**
 * Whether API Gateway passes a body of this content type as text; anything else (form posts, octet
 * streams, a body without a content type) arrives base64-encoded with `isBase64Encoded: true`.
 */
function isTextContent(contentType: string | undefined): boolean {
  const type = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return (
    type.startsWith('text/') ||
    /^application\/([\w.-]+\+)?(json|xml)$/.test(type) ||
    type === 'application/javascript'
  );
}

function requestContext(facts: HttpRequestFacts, routeKey: string): HttpEvent['requestContext'] {
  const domainName = facts.headers.host ?? '127.0.0.1';
  return {
    accountId: facts.api.accountId,
    apiId: facts.api.apiId,
    domainName,
    domainPrefix: domainName.split('.')[0]!,
    http: {
      method: facts.method,
      path: facts.rawPath,
      protocol: 'HTTP/1.1',
      sourceIp: facts.sourceIp,
      userAgent: facts.headers['user-agent'] ?? '',
    },
    requestId: facts.requestId,
    routeKey,
    stage: STAGE,
    time: formatRequestTime(facts.receivedAt),
    timeEpoch: facts.receivedAt,
  };
}

/** The fields an integration event and an authorizer event share. */
function requestFields(facts: HttpRequestFacts, match: RouteMatch<RoutePattern>) {
  const query = joinedValues(queryParameters(facts.rawQueryString));
  return {
    routeKey: match.routeKey,
    rawPath: facts.rawPath,
    rawQueryString: facts.rawQueryString,
    ...(facts.cookies.length ? { cookies: facts.cookies } : {}),
    headers: facts.headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(Object.keys(match.pathParameters).length ? { pathParameters: match.pathParameters } : {}),
  };
}

/** The REQUEST authorizer event (payload 2.0) for a route behind the authorizer. */
export function httpAuthorizerEvent(
  facts: HttpRequestFacts,
  match: RouteMatch<RoutePattern>,
  identitySource: string[],
): HttpAuthorizerEvent {
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: executeApiArn(facts.api, STAGE, `${facts.method}${facts.rawPath}`),
    identitySource,
    ...requestFields(facts, match),
    requestContext: requestContext(facts, match.routeKey),
  };
}

/** The integration event; `authorizer` is the context a Lambda authorizer returned, on authorized routes. */
export function httpEvent(
  facts: HttpRequestFacts,
  match: RouteMatch<RoutePattern>,
  authorizer?: Record<string, unknown> | null,
): HttpEvent {
  const asText = isTextContent(facts.headers['content-type']);
  return {
    version: '2.0',
    ...requestFields(facts, match),
    requestContext: {
      ...requestContext(facts, match.routeKey),
      ...(authorizer === undefined ? {} : { authorizer: { lambda: authorizer } }),
    },
    ...(facts.body.length ? { body: facts.body.toString(asText ? 'utf8' : 'base64') } : {}),
    isBase64Encoded: facts.body.length > 0 && !asText,
  };
}
