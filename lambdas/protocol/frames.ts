/**
 * The WebSocket wire protocol: one schema per frame. A client frame names its route in `action`
 * (API Gateway selects the route on `$request.body.action`); a server frame names itself in `type`.
 * A client may add a `requestId`, which the answer echoes so it can match answers to frames.
 */
import { z } from 'zod';
import type { ErrorCode } from './errors';

const RequestId = z.string().min(1).max(64).optional();

// ---- client → server -------------------------------------------------------------------------

export const HeartbeatFrame = z.strictObject({
  action: z.literal('HEARTBEAT'),
  requestId: RequestId,
});
export type HeartbeatFrame = z.infer<typeof HeartbeatFrame>;

/** What every client frame has; used to answer a frame that matches no route. */
export const AnyClientFrame = z.looseObject({
  action: z.unknown().optional(),
  requestId: z.unknown().optional(),
});

// ---- server → client -------------------------------------------------------------------------

export interface HeartbeatAckFrame {
  type: 'HEARTBEAT_ACK';
  requestId?: string;
  /** Epoch milliseconds until which the server keeps this device's route without another heartbeat. */
  routeExpiresAt: number;
}

export interface ErrorFrame {
  type: 'ERROR';
  code: ErrorCode;
  message: string;
  requestId?: string;
  /** The action of the frame that failed, when it had one. */
  action?: string;
  [detail: string]: unknown;
}

/** Why the server ends a session; sent just before it closes the connection. */
export const sessionCloseReasons = {
  /** The same device opened a newer connection (Signal-Server's close code 4409). */
  CONNECTED_ELSEWHERE: 4409,
  /** The device was removed from its account or the account was registered anew. */
  DEVICE_REMOVED: 4401,
} as const;
export type SessionCloseReason = keyof typeof sessionCloseReasons;

/**
 * API Gateway's `@connections` API closes a connection without a close code of our choosing, so the
 * reason travels in this frame first. A client that gets it must not reconnect automatically.
 */
export interface SessionClosedFrame {
  type: 'SESSION_CLOSED';
  reason: SessionCloseReason;
  code: (typeof sessionCloseReasons)[SessionCloseReason];
}

export type ServerFrame = HeartbeatAckFrame | ErrorFrame | SessionClosedFrame;
