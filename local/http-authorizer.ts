/**
 * Runs an HTTP API's Lambda authorizer (payload format 2.0, simple responses) the way API Gateway does,
 * and turns its answer into the context the integration receives or the status that refuses the request.
 */
import type { HttpAuthorizerResponse } from '../lambdas/runtime/gateway-events';
import type { HttpAuthorizerEvent } from './gateway-event-shapes';
import { invoke, timedOut, withinDeadline } from './deadline';

/** A Lambda authorizer with simple responses and a header as its identity source. */
export interface HttpAuthorizer {
  /** The header named by the identity source (`$request.header.<name>`); without it the request gets 401. */
  readonly identityHeader: string;
  readonly invoke: (event: HttpAuthorizerEvent) => Promise<HttpAuthorizerResponse>;
}

export type HttpAuthorizerVerdict =
  | { readonly admitted: true; readonly context: Record<string, unknown> | null }
  | { readonly admitted: false; readonly statusCode: 403 | 500; readonly cause?: unknown };

/** Invokes the authorizer and judges its simple response. */
export async function runHttpAuthorizer(
  authorizer: HttpAuthorizer,
  event: HttpAuthorizerEvent,
  timeoutMs: number,
): Promise<HttpAuthorizerVerdict> {
  let response: unknown;
  try {
    response = await withinDeadline(invoke(authorizer.invoke, event), timeoutMs);
  } catch (error) {
    return { admitted: false, statusCode: 500, cause: error };
  }
  if (response === timedOut) {
    return { admitted: false, statusCode: 500, cause: new Error(`The authorizer did not answer within ${timeoutMs} ms`) };
  }
  const answer = response as { isAuthorized?: unknown; context?: unknown } | null;
  if (typeof answer?.isAuthorized !== 'boolean') {
    return { admitted: false, statusCode: 500, cause: new Error('The authorizer answered without a boolean isAuthorized') };
  }
  if (!answer.isAuthorized) return { admitted: false, statusCode: 403 };
  const context = typeof answer.context === 'object' && answer.context !== null ? (answer.context as Record<string, unknown>) : null;
  return { admitted: true, context };
}
