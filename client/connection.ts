/**
 * The device's WebSocket to Parley, kept open: it reconnects after a drop with exponential backoff (1 s
 * doubling to 60 s, jittered), SYNCs the device's queue after every (re)connect before it reports
 * `online`, heartbeats so API Gateway keeps the route, matches answers to requests by `requestId`, and
 * hands every queued frame (PUSH, RECEIPT, GROUP_UPDATE, PREKEYS_LOW), from SYNC pages or live, to one handler in order.
 * It stops for good when the server says SESSION_CLOSED, refuses the credentials, refuses the handshake
 * because a newer connection of the device overtook it (409), or the app closes it.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { encodeDeviceCredentials, type DeviceCredentials } from '../lambdas/protocol/credentials';
import type { ErrorFrame, GroupCursor, PresenceFrame, QueuedFrame, TypingNoticeFrame } from '../lambdas/protocol/frames';
import { webSocketLimits } from '../lambdas/protocol/limits';
import { Backoff, type BackoffOptions } from './backoff';
import { ClientClosedError, ConnectionLostError, ParleyApiError } from './errors';
import type { ConnectionStatus } from './events';

export interface ConnectionOptions {
  readonly url: string;
  readonly credentials: DeviceCredentials;
  /** Handles one frame of the device's queue; the next waits until it resolves. */
  readonly onQueued: (frame: QueuedFrame) => Promise<void>;
  /** The newest delivery state this device has seen, for SYNC's `receiptsAfter`. @default none: the last 30 days' */
  readonly receiptsAfter?: () => Promise<number | undefined>;
  /**
   * The group cursors each SYNC acknowledges (`groups`): taken before it is sent, given back if it fails.
   * @default none: group messages are acknowledged with DELIVERED only
   */
  readonly groupAcknowledgements?: { take(): GroupCursor[]; restore(cursors: readonly GroupCursor[]): void };
  readonly onStatus: (status: ConnectionStatus) => void;
  /** Called when a connection drops, before any reconnect. */
  readonly onDisconnected?: () => void;
  /** An ERROR frame that answers no request of ours. */
  readonly onError?: (error: ParleyApiError) => void;
  /** A frame that is never queued (PRESENCE, TYPING): best effort, handled as it comes. */
  readonly onEphemeral?: (frame: EphemeralFrame) => void;
  readonly backoff?: BackoffOptions;
  /** @default 5 minutes (the server keeps a route 15 minutes after a heartbeat) */
  readonly heartbeatIntervalMs?: number;
  /** A request unanswered this long means the connection is dead: it is dropped and reopened. @default 30 s */
  readonly requestTimeoutMs?: number;
}

/** A client frame; `requestId` is added by the connection. */
export type ClientFrame = { action: string } & Record<string, unknown>;

interface Pending {
  resolve: (frame: any) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const QUEUED_TYPES = new Set(['PUSH', 'RECEIPT', 'PREKEYS_LOW', 'GROUP_UPDATE']);
const EPHEMERAL_TYPES = new Set(['PRESENCE', 'TYPING']);

export type EphemeralFrame = PresenceFrame | TypingNoticeFrame;

export class Connection {
  private socket: WebSocket | undefined;
  private generation = 0;
  private syncing = false;
  private readonly heldDuringSync: QueuedFrame[] = [];
  private inbound: Promise<void> = Promise.resolve();
  private readonly pending = new Map<string, Pending>();
  private readonly backoff: Backoff;
  private heartbeat: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closedBecause: string | undefined;
  private online = deferred();
  private readonly heartbeatIntervalMs: number;
  private readonly requestTimeoutMs: number;

  constructor(private readonly options: ConnectionOptions) {
    this.backoff = new Backoff(options.backoff);
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 5 * 60 * 1000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  /** Opens the connection; resolves once it is online the first time, rejects if it is closed for good first. */
  start(): Promise<void> {
    if (!this.socket && !this.retry && !this.closedBecause) this.open();
    return this.online.promise;
  }

  get isOnline(): boolean {
    return this.online.settled && !this.closedBecause;
  }

  /**
   * Sends a frame and resolves with its answer (an ERROR answer rejects with {@link ParleyApiError}).
   * Waits until the connection is online, unless `whileSyncing` (frames the SYNC itself needs).
   * Rejects with {@link ConnectionLostError} when the connection drops first.
   */
  async request<T = any>(frame: ClientFrame, whileSyncing = false): Promise<T> {
    if (!whileSyncing) await this.online.promise;
    const socket = this.socket;
    if (this.closedBecause) throw new ClientClosedError(this.closedBecause);
    if (!socket || socket.readyState !== WebSocket.OPEN) throw new ConnectionLostError('not connected');
    const requestId = randomUUID();
    const answer = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new ConnectionLostError(`no answer to ${frame.action} within ${this.requestTimeoutMs} ms`));
        socket.terminate();
      }, this.requestTimeoutMs);
      this.pending.set(requestId, { resolve, reject, timer });
    });
    sendFragmented(socket, JSON.stringify({ ...frame, requestId }));
    return answer;
  }

  /**
   * Sends a frame the server does not answer (TYPING), if the connection is online; best effort, so it is
   * dropped otherwise. Answers whether it went out.
   */
  notify(frame: ClientFrame): boolean {
    const socket = this.socket;
    if (!this.isOnline || !socket || socket.readyState !== WebSocket.OPEN) return false;
    sendFragmented(socket, JSON.stringify(frame));
    return true;
  }

  /** Closes for good. */
  close(reason = 'closed by the app'): void {
    if (this.closedBecause) return;
    this.closedBecause = reason;
    clearTimeout(this.retry);
    this.retry = undefined;
    const socket = this.socket;
    if (socket && socket.readyState !== WebSocket.CLOSED) socket.close(1000);
    else this.finish();
  }

  private open(): void {
    this.retry = undefined;
    const generation = ++this.generation;
    this.options.onStatus({ state: 'connecting' });
    const socket = new WebSocket(this.options.url, {
      headers: { Authorization: encodeDeviceCredentials(this.options.credentials) },
      perMessageDeflate: false,
    });
    this.socket = socket;
    const current = () => generation === this.generation;

    socket.on('open', () => current() && void this.opened(socket));
    socket.on('message', (data) => current() && this.received(data.toString()));
    socket.on('unexpected-response', (request, response) => {
      request.destroy();
      if (!current()) return;
      const status = response.statusCode ?? 0;
      // Wrong or removed credentials do not get better by retrying.
      if (status === 401 || status === 403) this.closedBecause ??= `the server refused the device's credentials (${status})`;
      // A newer connection of this device overtook this one during its handshake: that one holds the device.
      if (status === 409) this.closedBecause ??= 'CONNECTED_ELSEWHERE: a newer connection of this device replaced this one';
      this.dropped(`handshake refused: ${status}`);
    });
    socket.on('error', () => undefined); // 'close' follows and decides
    socket.on('close', (code) => current() && this.dropped(`closed with ${code}`));
  }

  private async opened(socket: WebSocket): Promise<void> {
    this.heartbeat = setInterval(() => void this.request({ action: 'HEARTBEAT' }, true).catch(() => undefined), this.heartbeatIntervalMs);
    try {
      await this.sync();
    } catch {
      // The connection dropped mid-SYNC (or the SYNC failed): drop it and start again.
      socket.terminate();
      return;
    }
    if (socket !== this.socket || socket.readyState !== WebSocket.OPEN) return;
    this.backoff.reset();
    this.options.onStatus({ state: 'online' });
    this.online.resolve();
  }

  /** Drains the device's queue page by page; live frames that arrive meanwhile are handled after it. */
  private async sync(): Promise<void> {
    this.syncing = true;
    this.options.onStatus({ state: 'syncing' });
    try {
      let cursor: string | undefined;
      const receiptsAfter = await this.options.receiptsAfter?.();
      for (;;) {
        // The group messages of the previous page (or of the previous connection) are acknowledged with this SYNC.
        const groups = this.options.groupAcknowledgements?.take() ?? [];
        const page = await this.request<{ type: 'SYNC_PAGE' | 'QUEUE_EMPTY'; frames: QueuedFrame[]; cursor?: string }>(
          { action: 'SYNC', ...(cursor ? { cursor } : {}), ...(receiptsAfter !== undefined ? { receiptsAfter } : {}), ...(groups.length ? { groups } : {}) },
          true,
        ).catch((error: Error) => {
          this.options.groupAcknowledgements?.restore(groups);
          throw error;
        });
        for (const frame of page.frames) await this.enqueue(frame);
        if (page.type === 'QUEUE_EMPTY') break;
        cursor = page.cursor;
      }
      while (this.heldDuringSync.length) await this.enqueue(this.heldDuringSync.shift()!);
    } finally {
      this.syncing = false;
    }
  }

  private received(text: string): void {
    let frame: any;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    const pending = typeof frame.requestId === 'string' ? this.pending.get(frame.requestId) : undefined;
    if (pending) {
      this.pending.delete(frame.requestId);
      clearTimeout(pending.timer);
      if (frame.type === 'ERROR') pending.reject(apiErrorOf(frame));
      else pending.resolve(frame);
    } else if (frame.type === 'ERROR') {
      this.options.onError?.(apiErrorOf(frame));
    } else if (frame.type === 'SESSION_CLOSED') {
      this.closedBecause ??= `session closed by the server: ${frame.reason}`;
    } else if (EPHEMERAL_TYPES.has(frame.type)) {
      this.options.onEphemeral?.(frame);
    } else if (QUEUED_TYPES.has(frame.type)) {
      if (this.syncing) this.heldDuringSync.push(frame);
      else void this.enqueue(frame);
    }
  }

  /** Every queued frame, of this connection or an earlier one, is handled after the one before it. */
  private enqueue(frame: QueuedFrame): Promise<void> {
    this.inbound = this.inbound.then(() => this.options.onQueued(frame)).catch(() => undefined);
    return this.inbound;
  }

  private dropped(why: string): void {
    clearInterval(this.heartbeat);
    this.socket = undefined;
    this.heldDuringSync.length = 0;
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new ConnectionLostError(`the connection dropped: ${why}`));
      this.pending.delete(id);
    }
    if (this.online.settled) this.online = deferred();
    this.options.onDisconnected?.();
    if (this.closedBecause) return this.finish();
    const retryInMs = this.backoff.nextDelayMs();
    this.options.onStatus({ state: 'offline', retryInMs, reason: why });
    this.retry = setTimeout(() => this.open(), retryInMs);
  }

  private finish(): void {
    clearInterval(this.heartbeat);
    this.options.onStatus({ state: 'closed', reason: this.closedBecause! });
    this.online.reject(new ClientClosedError(this.closedBecause!));
  }
}

function apiErrorOf({ type: _type, code, message, requestId: _requestId, ...details }: ErrorFrame): ParleyApiError {
  return new ParleyApiError(code, message, undefined, details);
}

/** API Gateway takes frames of up to 32 KB: a longer message goes as continuation frames. */
function sendFragmented(socket: WebSocket, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  const size = webSocketLimits.frameBytes;
  if (bytes.length <= size) return socket.send(text);
  for (let offset = 0; offset < bytes.length; offset += size) {
    socket.send(bytes.subarray(offset, offset + size), { binary: false, fin: offset + size >= bytes.length });
  }
}

interface Deferred {
  promise: Promise<void>;
  settled: boolean;
  resolve(): void;
  reject(error: Error): void;
}

function deferred(): Deferred {
  const state = {} as Deferred;
  state.settled = false;
  state.promise = new Promise<void>((resolve, reject) => {
    state.resolve = () => ((state.settled = true), resolve());
    state.reject = (error) => ((state.settled = true), reject(error));
  });
  state.promise.catch(() => undefined); // nobody may be waiting
  return state;
}
