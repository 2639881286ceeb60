import type { FrameViolation } from './websocket-frame-limits';

/**
 * Why a connection ended, as `$disconnect` reports it in `requestContext.disconnectStatusCode` and
 * `disconnectReason`. When the gateway ends a connection, the same code and reason go in its close frame.
 */
export interface Disconnect {
  readonly statusCode: number;
  readonly reason: string;
}

/** How API Gateway ends connections on its own. */
export const gatewayDisconnects = {
  /** `DELETE @connections/{id}`: AWS reports 1000 "Connection Closed Normally" (seen in API Gateway logs). */
  deleted: { statusCode: 1000, reason: 'Connection Closed Normally' },
  /** No message for the idle timeout (10 minutes on AWS). */
  idle: { statusCode: 1001, reason: 'Going away' },
  /** The connection reached its maximum age (2 hours on AWS). */
  tooOld: { statusCode: 1001, reason: 'Going away' },
  /** The gateway itself shuts down. */
  shutdown: { statusCode: 1001, reason: 'Going away' },
} as const satisfies Record<string, Disconnect>;

/** API Gateway closes with 1009 for an oversized frame or message and 1003 for a binary frame. */
export function violationDisconnect(violation: FrameViolation): Disconnect {
  switch (violation.kind) {
    case 'frameTooLarge':
      return { statusCode: 1009, reason: 'Frame size exceeds the 32 KB limit' };
    case 'messageTooLarge':
      return { statusCode: 1009, reason: 'Message size exceeds the 128 KB limit' };
    case 'binaryFrame':
      return { statusCode: 1003, reason: 'Binary frames are not supported' };
  }
}

/**
 * A connection the client ended: its close code and reason as sent. A close frame without a code is
 * reported as 1005 with the text AWS uses for it; a dropped socket (no close frame) as 1006.
 */
export function clientDisconnect(code: number, reason: string): Disconnect {
  if (code === 1005) return { statusCode: 1005, reason: 'Client-side close frame status not set' };
  return { statusCode: code, reason };
}
