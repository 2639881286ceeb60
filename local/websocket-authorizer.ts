/**
 * Runs a WebSocket API's REQUEST authorizer (Lambda, IAM policy response) the way API Gateway does on
 * `$connect`, and turns its answer into either the context every later event carries or the HTTP status
 * that refuses the handshake.
 */
import type { WebSocketAuthorizerResponse } from '../lambdas/runtime/gateway-events';
import type { WebSocketAuthorizerEvent } from './gateway-event-shapes';
import { invoke, timedOut, withinDeadline } from './deadline';
import { policyAllows } from './execute-api-policy';
import type { AuthorizerContext } from './websocket-events';

/** A Lambda REQUEST authorizer on `$connect` with a header as its identity source. */
export interface WebSocketAuthorizer {
  /** The header named by the identity source (`route.request.header.<name>`); without it the handshake gets 401. */
  readonly identityHeader: string;
  readonly invoke: (event: WebSocketAuthorizerEvent) => Promise<WebSocketAuthorizerResponse>;
}

/** The authorizer's answer: admitted with a context, or refused with an HTTP status. */
export type AuthorizerVerdict =
  | { readonly admitted: true; readonly context: AuthorizerContext }
  | { readonly admitted: false; readonly statusCode: 401 | 403 | 500; readonly cause?: unknown };

const refused = (statusCode: 401 | 403 | 500, cause?: unknown): AuthorizerVerdict => ({
  admitted: false,
  statusCode,
  ...(cause === undefined ? {} : { cause }),
});

/**
 * API Gateway passes context values to integrations as strings (`123` → `"123"`, `true` → `"true"`) and
 * rejects objects and arrays as a configuration error; undefined is the caller leaving a key out.
 */
function stringifiedContext(context: unknown): Record<string, string | null> | undefined {
  if (context === undefined || context === null) return {};
  if (typeof context !== 'object' || Array.isArray(context)) return undefined;
  const result: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(context)) {
    if (value === undefined) continue;
    if (value === null) result[key] = null;
    else if (['string', 'number', 'boolean'].includes(typeof value)) result[key] = String(value);
    else return undefined;
  }
  return result;
}

/** Invokes the authorizer and judges its answer against the `$connect` method ARN. */
export async function runWebSocketAuthorizer(
  authorizer: WebSocketAuthorizer,
  event: WebSocketAuthorizerEvent,
  timeoutMs: number,
): Promise<AuthorizerVerdict> {
  const startedAt = Date.now();
  let response: unknown;
  try {
    response = await withinDeadline(invoke(authorizer.invoke, event), timeoutMs);
  } catch (error) {
    // The documented way for a Lambda authorizer to answer 401 is to fail with exactly this message.
    return refused(error instanceof Error && error.message === 'Unauthorized' ? 401 : 500, error);
  }
  if (response === timedOut) return refused(500, new Error(`The authorizer did not answer within ${timeoutMs} ms`));

  const answer = response as Partial<Record<keyof WebSocketAuthorizerResponse, unknown>> | null;
  const context = stringifiedContext(answer?.context);
  if (typeof answer?.principalId !== 'string' || typeof answer.policyDocument !== 'object' || !context) {
    return refused(500, new Error('The authorizer answered with a malformed response'));
  }
  if (!policyAllows(answer.policyDocument, event.methodArn)) return refused(403);
  return {
    admitted: true,
    context: { ...context, principalId: answer.principalId, integrationLatency: Date.now() - startedAt },
  };
}
