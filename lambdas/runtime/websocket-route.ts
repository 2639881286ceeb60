import * as z from '../protocol/zod';
import { AnyClientFrame, type ErrorFrame, type ServerFrame } from '../protocol/frames';
import { ParleyError } from '../protocol/errors';
import type { Deps } from './deps';
import { WebSocketRouteEvent, type Caller, type WebSocketResponse } from './gateway-events';
import { defineHandler, type Handler } from './lambda-handler';
import { countRoute } from './route-metrics';
import { annotateMessage, messageIdsOf } from './message-trace';
import { appendLogKeys, logger, withLogKeys } from './observability';
import { ConnectionReplaced, ensureCurrentSession } from '../connect/sessions';

/** Where a frame came from. */
export interface FrameContext {
  readonly caller: Caller;
  readonly connection: { readonly connectionId: string; readonly connectedAt: number };
  /** When API Gateway received the frame, epoch milliseconds. */
  readonly receivedAt: number;
}

export function errorFrame(error: ParleyError, frame?: { action?: unknown; requestId?: unknown }): ErrorFrame {
  return {
    ...error.details,
    type: 'ERROR',
    code: error.code,
    message: error.message,
    ...(typeof frame?.action === 'string' ? { action: frame.action } : {}),
    ...(typeof frame?.requestId === 'string' ? { requestId: frame.requestId } : {}),
  };
}

/** Names what is wrong with a frame, field by field, so a client developer can fix it. */
export function describeIssues(error: z.core.$ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : 'frame'}: ${issue.message}`)
    .join('; ');
}

/** The ids a frame names that correlate log lines along a message's path (ids only, never contents). */
function correlationIdsOf(json: unknown): { msgId?: string; msgIds?: string; conversationId?: string } {
  const { msgId, msgIds, conversationId } = messageIdsOf(json);
  // DELIVERED names its messages as a list: one comma-separated field, which Logs Insights can `like`.
  return { ...(msgId ? { msgId } : {}), ...(msgIds ? { msgIds: msgIds.join(',') } : {}), ...(conversationId ? { conversationId } : {}) };
}

/** The answer carries the frame's `requestId`, so the client can match it to its request. */
function reply(frame: ServerFrame, request?: { requestId?: unknown }): WebSocketResponse {
  const answer = typeof request?.requestId === 'string' ? { ...frame, requestId: request.requestId } : frame;
  // Two-way routes send the body back to the caller; the status code only shows in API Gateway's logs.
  return { statusCode: 200, body: JSON.stringify(answer) };
}

export interface WebSocketRouteOptions {
  /**
   * Whether the route first checks that the frame's connection is the device's current one (one consistent
   * read of its route), and closes it otherwise. Off only for routes that check it themselves or touch no
   * state of the device. @default true
   */
  readonly checksSession?: boolean;
}

/**
 * A two-way WebSocket route: parses the event, validates the frame against its schema, runs the domain
 * code and answers with its frame (none when it returns nothing), or with an ERROR frame naming what was
 * wrong. Answers carry the frame's `requestId`.
 *
 * @example
 * export const handler = webSocketRoute('heartbeat', HeartbeatFrame, (frame, ctx, deps) =>
 *   refreshSession(deps, ctx.caller, ctx.connection));
 */
export function webSocketRoute<F extends z.ZodMiniType>(
  name: string,
  schema: F,
  run: (frame: z.infer<F>, ctx: FrameContext, deps: Deps) => Promise<ServerFrame | undefined>,
  options: WebSocketRouteOptions = {},
): Handler<unknown, WebSocketResponse> {
  return defineHandler(name, async (rawEvent, deps) => {
    const event = WebSocketRouteEvent.parse(rawEvent);
    const ctx: FrameContext = {
      caller: event.requestContext.authorizer,
      connection: { connectionId: event.requestContext.connectionId, connectedAt: event.requestContext.connectedAt },
      receivedAt: event.requestContext.requestTimeEpoch,
    };
    let refused: ParleyError | undefined;
    const refuse = (error: ParleyError, frame?: { action?: unknown; requestId?: unknown }) => {
      refused = error;
      // One line per refused frame: its code and route (and the correlation ids), never its contents.
      logger.info('Frame refused', { code: error.code });
      return reply(errorFrame(error, frame));
    };
    const keys = { route: name, connectionId: ctx.connection.connectionId, device: `${ctx.caller.userId}.${ctx.caller.deviceId}` };
    return withLogKeys(keys, async () => {
      const answer = await handleFrame(event.body, ctx, deps, refuse);
      countRoute(name, (refused as ParleyError | undefined)?.code);
      if (!refused) logger.debug('Frame handled');
      return answer;
    });
  });

  async function handleFrame(
    body: string | null | undefined,
    ctx: FrameContext,
    deps: Deps,
    refuse: (error: ParleyError, frame?: { action?: unknown; requestId?: unknown }) => WebSocketResponse,
  ): Promise<WebSocketResponse> {
    let json: unknown;
    try {
      json = JSON.parse(body ?? '');
    } catch {
      return refuse(new ParleyError('BAD_REQUEST', 'The frame is not valid JSON'));
    }
    appendLogKeys(correlationIdsOf(json));
    const envelope = AnyClientFrame.safeParse(json);
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      return refuse(new ParleyError('BAD_REQUEST', describeIssues(parsed.error)), envelope.success ? envelope.data : undefined);
    }
    annotateMessage(deps.tracer, messageIdsOf(parsed.data));
    try {
      if (options.checksSession !== false) await ensureCurrentSession(deps, ctx.caller, ctx.connection.connectionId);
      const answer = await run(parsed.data, ctx, deps);
      return answer ? reply(answer, envelope.data) : { statusCode: 200 };
    } catch (error) {
      // The connection was told SESSION_CLOSED and closed: there is no one left to answer.
      if (error instanceof ConnectionReplaced) return { statusCode: 200 };
      if (error instanceof ParleyError) return refuse(error, envelope.data);
      logger.error('Route failed', { error: error as Error });
      return refuse(new ParleyError('INTERNAL', 'The server failed to handle the frame; retry it'), envelope.data);
    }
  }
}

/** `$connect` and `$disconnect`: no frame, no answer but the status code (a non-2xx one refuses a handshake). */
export function connectionRoute(
  name: string,
  run: (event: WebSocketRouteEvent, deps: Deps) => Promise<number>,
): Handler<unknown, WebSocketResponse> {
  return defineHandler(name, async (rawEvent, deps) => ({ statusCode: await run(WebSocketRouteEvent.parse(rawEvent), deps) }));
}
