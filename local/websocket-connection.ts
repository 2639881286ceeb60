import WebSocket from 'ws';
import { clientDisconnect, gatewayDisconnects, type Disconnect } from './websocket-disconnects';
import type { AuthorizerContext, ConnectionFacts } from './websocket-events';

/** The limits a live connection is held to. */
export interface ConnectionLimits {
  /** Outgoing messages larger than this go out in fragments of this size, as API Gateway sends them. */
  readonly frameBytes: number;
  /** Closed (1001) after this long without a message. */
  readonly idleTimeoutMs: number;
  /** Closed (1001) at this age. */
  readonly maxConnectionMs: number;
}

/**
 * One accepted WebSocket connection, as API Gateway keeps it: its id and facts, the authorizer context
 * its events carry, when it was last active, and its two clocks (idle and maximum age). It ends exactly
 * once, and {@link closed} tells why.
 */
export class GatewayConnection {
  /** Epoch milliseconds of the last message in either direction. */
  private lastActive: number;
  private ending: Disconnect | undefined;
  private readonly idleTimer: NodeJS.Timeout;
  private readonly ageTimer: NodeJS.Timeout;
  /** Resolves once the socket has closed, with the code and reason `$disconnect` reports. */
  readonly closed: Promise<Disconnect>;

  constructor(
    private readonly socket: WebSocket,
    readonly facts: ConnectionFacts,
    readonly authorizer: AuthorizerContext | undefined,
    private readonly limits: ConnectionLimits,
  ) {
    this.lastActive = facts.connectedAt;
    this.idleTimer = setTimeout(() => this.end(gatewayDisconnects.idle), limits.idleTimeoutMs);
    this.ageTimer = setTimeout(
      () => this.end(gatewayDisconnects.tooOld),
      Math.max(0, facts.connectedAt + limits.maxConnectionMs - Date.now()),
    );
    this.closed = new Promise((resolve) => {
      socket.once('close', (code: number, reason: Buffer) => {
        clearTimeout(this.idleTimer);
        clearTimeout(this.ageTimer);
        resolve(this.ending ?? clientDisconnect(code, reason.toString('utf8')));
      });
    });
  }

  get id(): string {
    return this.facts.connectionId;
  }

  get lastActiveAt(): number {
    return this.lastActive;
  }

  /** Open and not being closed: the `@connections` API answers 410 Gone for anything else. */
  get isOpen(): boolean {
    return this.ending === undefined && this.socket.readyState === WebSocket.OPEN;
  }

  /**
   * Counts a message as activity. Both directions count: services on API Gateway keep idle connections
   * alive with server-sent messages alone.
   */
  markActive(): void {
    this.lastActive = Date.now();
    this.idleTimer.refresh();
  }

  /** Sends text to the client, in frames no larger than API Gateway's frame size. */
  send(data: string | Buffer): void {
    if (!this.isOpen) return;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const { frameBytes } = this.limits;
    // All fragments go out in one synchronous run, so messages sent concurrently never interleave.
    let offset = 0;
    do {
      const end = Math.min(offset + frameBytes, bytes.length);
      this.socket.send(bytes.subarray(offset, end), { binary: false, fin: end === bytes.length });
      offset = end;
    } while (offset < bytes.length);
    this.markActive();
  }

  /** Closes the connection from the gateway's side, once; later calls change nothing. */
  end(disconnect: Disconnect): void {
    if (this.ending) return;
    this.ending = disconnect;
    this.socket.close(disconnect.statusCode, disconnect.reason);
  }

  /** Drops the socket without a closing handshake (gateway shutdown, when the client does not answer). */
  terminate(): void {
    this.ending ??= gatewayDisconnects.shutdown;
    this.socket.terminate();
  }
}
