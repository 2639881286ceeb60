import type * as z from '../protocol/zod';
import { ParleyError } from '../protocol/errors';
import type { Deps } from './deps';
import { Caller, HttpEvent, type HttpResponse } from './gateway-events';
import { defineHandler, type Handler } from './lambda-handler';
import { logger, withLogKeys } from './observability';
import { countRoute } from './route-metrics';
import { describeIssues } from './websocket-route';

export interface HttpRequest<B> {
  readonly body: B;
  readonly pathParameters: Readonly<Record<string, string | undefined>>;
  /** Query string parameters; a repeated one arrives as its values joined with commas. */
  readonly queryParameters: Readonly<Record<string, string | undefined>>;
  readonly sourceIp: string;
}

export interface AuthorizedHttpRequest<B> extends HttpRequest<B> {
  readonly caller: Caller;
}

export interface HttpResult {
  readonly status: number;
  readonly body?: unknown;
}

const json = (statusCode: number, body?: unknown): HttpResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

function errorResponse(error: ParleyError): HttpResponse {
  return json(error.httpStatus, { error: { code: error.code, message: error.message, ...error.details } });
}

function parseBody<S extends z.ZodMiniType>(schema: S, event: HttpEvent): z.infer<S> {
  let value: unknown = undefined;
  if (event.body !== undefined && event.body !== '') {
    const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    try {
      value = JSON.parse(text);
    } catch {
      throw new ParleyError('BAD_REQUEST', 'The request body is not valid JSON');
    }
  }
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) throw new ParleyError('BAD_REQUEST', describeIssues(parsed.error));
  return parsed.data;
}

function define<S extends z.ZodMiniType, R extends HttpRequest<z.infer<S>>>(
  name: string,
  schema: S,
  toRequest: (event: HttpEvent, body: z.infer<S>) => R,
  run: (request: R, deps: Deps) => Promise<HttpResult>,
): Handler<unknown, HttpResponse> {
  return defineHandler(name, (rawEvent, deps) => withLogKeys({ route: name }, async () => {
    const event = HttpEvent.parse(rawEvent);
    try {
      const result = await run(toRequest(event, parseBody(schema, event)), deps);
      countRoute(name, undefined);
      return json(result.status, result.body);
    } catch (error) {
      if (error instanceof ParleyError) {
        logger.info('Request refused', { code: error.code });
        countRoute(name, error.code);
        return errorResponse(error);
      }
      logger.error('Route failed', { error: error as Error });
      countRoute(name, 'INTERNAL');
      return errorResponse(new ParleyError('INTERNAL', 'The server failed to handle the request; retry it'));
    }
  }));
}

const baseRequest = <B>(event: HttpEvent, body: B): HttpRequest<B> => ({
  body,
  pathParameters: event.pathParameters ?? {},
  queryParameters: event.queryStringParameters ?? {},
  sourceIp: event.requestContext.http.sourceIp,
});

/** An HTTP API route open to anyone: parse, validate the JSON body, run, answer JSON. */
export function publicHttpRoute<S extends z.ZodMiniType>(
  name: string,
  schema: S,
  run: (request: HttpRequest<z.infer<S>>, deps: Deps) => Promise<HttpResult>,
): Handler<unknown, HttpResponse> {
  return define(name, schema, baseRequest, run);
}

/** An HTTP API route behind the device authorizer: the caller is the authenticated device. */
export function authorizedHttpRoute<S extends z.ZodMiniType>(
  name: string,
  schema: S,
  run: (request: AuthorizedHttpRequest<z.infer<S>>, deps: Deps) => Promise<HttpResult>,
): Handler<unknown, HttpResponse> {
  return define(
    name,
    schema,
    (event, body) => ({ ...baseRequest(event, body), caller: Caller.parse(event.requestContext.authorizer?.lambda) }),
    run,
  );
}
