/** Errors the SDK raises. Server refusals keep the protocol's error code, so an app can act on it. */
import type { ErrorCode } from '../lambdas/protocol/errors';

/** The server refused a request or frame: `code` is the protocol's (docs/protocol.md, Error codes). */
export class ParleyApiError extends Error {
  constructor(
    readonly code: ErrorCode | string,
    message: string,
    /** HTTP status, or undefined for a WebSocket ERROR frame. */
    readonly status: number | undefined,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'ParleyApiError';
  }

  /** Seconds the server asked to wait, for RATE_LIMITED. */
  get retryAfterSeconds(): number | undefined {
    const value = this.details.retryAfterSeconds;
    return typeof value === 'number' ? value : undefined;
  }
}

/** A request over the WebSocket got no answer because the connection closed first; it may be retried. */
export class ConnectionLostError extends Error {
  constructor(message = 'the connection closed before the answer came') {
    super(message);
    this.name = 'ConnectionLostError';
  }
}

/** The client was closed, by the app or for good by the server (SESSION_CLOSED, credentials refused). */
export class ClientClosedError extends Error {
  constructor(readonly reason: string) {
    super(`the client is closed: ${reason}`);
    this.name = 'ClientClosedError';
  }
}

/**
 * The device refused a message action only it can check (the server cannot read the conversation):
 * `UNKNOWN_MESSAGE` (this device has no such message in the chat), `NOT_OWN_MESSAGE` (editing or deleting
 * someone else's), `EDIT_WINDOW_PASSED` (15 minutes), `DELETE_WINDOW_PASSED` (48 hours), `BAD_TIMER`,
 * `NOT_ADMIN` (a group's timer, set by a member who is no admin), `REACTION_TOO_LONG` (more than receivers
 * accept). Nothing was sent.
 */
export class MessageActionError extends Error {
  constructor(
    readonly code: 'UNKNOWN_MESSAGE' | 'NOT_OWN_MESSAGE' | 'EDIT_WINDOW_PASSED' | 'DELETE_WINDOW_PASSED' | 'BAD_TIMER' | 'NOT_ADMIN' | 'REACTION_TOO_LONG',
    message: string,
  ) {
    super(message);
    this.name = 'MessageActionError';
  }
}
