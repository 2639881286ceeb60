/**
 * Limits of API Gateway WebSocket APIs that the protocol is designed around. The local runtime enforces
 * the same numbers; clients must stay within them.
 */
export const webSocketLimits = {
  /** Largest single WebSocket frame API Gateway accepts. */
  frameBytes: 32 * 1024,
  /** Largest message (frames reassembled) API Gateway accepts. */
  messageBytes: 128 * 1024,
  /** API Gateway closes a connection with no client message for this long. */
  idleTimeoutMs: 10 * 60 * 1000,
  /** API Gateway closes every connection at this age. */
  maxConnectionMs: 2 * 60 * 60 * 1000,
} as const;

/** How long the server keeps a device's route without a heartbeat. Clients heartbeat every few minutes. */
export const routeTtlMs = 15 * 60 * 1000;

/**
 * A route never outlives its connection's maximum age by more than this, so a connection dropped without
 * a `$disconnect` leaves a live-looking route for at most `routeTtlMs`.
 */
export const routeGraceMs = 5 * 60 * 1000;
