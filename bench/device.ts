/**
 * A device of the bench: a real `ws` client that stamps each frame with its receive time, answers
 * requests by `requestId`, acknowledges queued PUSH and RECEIPT frames with DELIVERED as a live client
 * does (what arrives within the SDK's window in one DELIVERED, by their cursors, with the chat-list
 * preview of each message it received; group messages by their group's cursor), and counts the
 * WebSocket messages it sends and receives (what API Gateway bills). The group messages a SYNC brings
 * are acknowledged as the SDK does, with the device's next SYNC: a page's with the SYNC for the next
 * page, the last page's with the SYNC of the device's next return (kept across its connections).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { ParleyLocal } from '../local/runtime';
import { encodeDeviceCredentials } from '../lambdas/protocol/credentials';
import type { TestDevice } from '../test/support/device-client';
import { DEFAULT_DELIVERED_WINDOW_MS } from '../client/delivery-acknowledger';

export interface FrameCounts {
  sent: number;
  received: number;
  sentBytes: number;
  receivedBytes: number;
  /** What API Gateway bills: each message in either direction, per 32 KB. */
  units: number;
}

/** WebSocket messages of every bench device, in and out. */
export const frameCounts: FrameCounts = { sent: 0, received: 0, sentBytes: 0, receivedBytes: 0, units: 0 };
const billedUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / (32 * 1024)));
/** How long a device collects acknowledgements before it sends them in one DELIVERED: as the SDK does. */
const DELIVERED_BATCH_MS = DEFAULT_DELIVERED_WINDOW_MS;
/** The most cursors one DELIVERED may carry. */
const DELIVERED_BATCH_MAX = 100;

/** Per device (`userId.deviceId`), the newest group cursor of each group its SYNCs brought, for its next SYNC's `groups`. */
const carriedGroupCursors = new Map<string, Map<string, { cursor: string; ciphertext?: string }>>();

export function resetFrameCounts(): void {
  Object.assign(frameCounts, { sent: 0, received: 0, sentBytes: 0, receivedBytes: 0, units: 0 });
}

/** Time of the most recent frame any device received: the bench waits for the system to go quiet. */
let lastFrameAt = performance.now();
export const lastFrameTime = () => lastFrameAt;

export class BenchDevice {
  /** Called with each server frame and the time it arrived (performance.now()). */
  onFrame: (frame: any, at: number) => void = () => undefined;
  /** Whether PUSH and RECEIPT frames are acknowledged with DELIVERED at once. */
  autoDeliver = true;
  private readonly pending = new Map<string, (frame: any) => void>();
  private nextRequest = 0;
  private undelivered: string[] = [];
  private previews: { msgId: string; ciphertext: string }[] = [];
  /** The newest handled cursor of each group, with its message's preview. */
  private readonly groupCursors = new Map<string, { cursor: string; ciphertext?: string }>();
  private deliverTimer: NodeJS.Timeout | undefined;

  private constructor(
    readonly credentials: TestDevice,
    private readonly socket: WebSocket,
  ) {
    socket.on('message', (data: Buffer) => {
      const at = performance.now();
      lastFrameAt = at;
      frameCounts.received++;
      frameCounts.receivedBytes += data.length;
      frameCounts.units += billedUnits(data.length);
      const frame = JSON.parse(data.toString());
      // Queued frames have a cursor; a 1:1 delivery state (a RECEIPT without one) is not acknowledged.
      if ((frame.type === 'PUSH' || frame.type === 'RECEIPT') && frame.cursor && this.autoDeliver) this.acknowledgeFrame(frame);
      const answer = frame.requestId !== undefined && frame.type !== 'PUSH' ? this.pending.get(frame.requestId) : undefined;
      if (answer) {
        this.pending.delete(frame.requestId);
        answer(frame);
      }
      this.onFrame(frame, at);
    });
  }

  /**
   * Acknowledges a frame as the SDK does: a group message by its group's cursor (it is stored once per
   * group), anything else by its queue cursor; a received message with its chat-list preview.
   */
  private acknowledgeFrame(frame: any, groupCursors = this.groupCursors): void {
    const preview = frame.type === 'PUSH' && frame.from.userId !== this.credentials.userId ? sealedPreview() : undefined;
    if (frame.type === 'PUSH' && frame.envelope.type === 'senderKey') {
      const newest = groupCursors.get(frame.conversationId);
      if (!newest || newest.cursor < frame.cursor) groupCursors.set(frame.conversationId, { cursor: frame.cursor, ...(preview ? { ciphertext: preview } : {}) });
      if (groupCursors !== this.groupCursors) return;
    } else {
      this.undelivered.push(frame.cursor);
      if (preview) this.previews.push({ msgId: frame.msgId, ciphertext: preview });
    }
    if (this.undelivered.length >= DELIVERED_BATCH_MAX) this.flushDelivered();
    else this.deliverTimer ??= setTimeout(() => this.flushDelivered(), DELIVERED_BATCH_MS);
  }

  private flushDelivered(): void {
    clearTimeout(this.deliverTimer);
    this.deliverTimer = undefined;
    if ((this.undelivered.length === 0 && this.groupCursors.size === 0) || this.socket.readyState !== WebSocket.OPEN) return;
    const groups = [...this.groupCursors].map(([conversationId, newest]) => ({ conversationId, ...newest }));
    this.send({
      action: 'DELIVERED',
      ...(this.undelivered.length ? { cursors: this.undelivered } : {}),
      ...(this.previews.length ? { previews: this.previews } : {}),
      ...(groups.length ? { groups } : {}),
    });
    this.undelivered = [];
    this.previews = [];
    this.groupCursors.clear();
  }

  /**
   * SYNCs page by page until QUEUE_EMPTY, as a client does after connecting, acknowledging each page's
   * queued frames as they are handled and its group messages with the next SYNC; answers the frames.
   */
  async syncAll(): Promise<any[]> {
    const frames: any[] = [];
    let cursor: string | undefined;
    const carried = carriedGroupCursors.get(this.key) ?? new Map<string, { cursor: string; ciphertext?: string }>();
    carriedGroupCursors.set(this.key, carried);
    for (;;) {
      const groups = [...carried].map(([conversationId, newest]) => ({ conversationId, ...newest }));
      const page = await this.request({ action: 'SYNC', ...(cursor ? { cursor } : {}), ...(groups.length ? { groups } : {}) });
      if (page.type !== 'SYNC_PAGE' && page.type !== 'QUEUE_EMPTY') throw new Error(`SYNC answered ${JSON.stringify(page).slice(0, 200)}`);
      carried.clear();
      for (const frame of page.frames) if (frame.cursor) this.acknowledgeFrame(frame, carried);
      frames.push(...page.frames);
      if (page.type === 'QUEUE_EMPTY') break;
      cursor = page.cursor;
    }
    this.flushDelivered();
    return frames;
  }

  static connect(parley: ParleyLocal, credentials: TestDevice): Promise<BenchDevice> {
    const socket = new WebSocket(parley.webSocketUrl, { headers: { Authorization: encodeDeviceCredentials(credentials) } });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new BenchDevice(credentials, socket)));
      socket.once('unexpected-response', (_request, response) => reject(new Error(`handshake refused: ${response.statusCode}`)));
      socket.once('error', reject);
    });
  }

  get key(): string {
    return `${this.credentials.userId}.${this.credentials.deviceId}`;
  }

  requestId(): string {
    return `r${++this.nextRequest}`;
  }

  send(frame: object): void {
    const text = JSON.stringify(frame);
    frameCounts.sent++;
    const bytes = Buffer.byteLength(text);
    frameCounts.sentBytes += bytes;
    frameCounts.units += billedUnits(bytes);
    this.socket.send(text);
  }

  /** Sends a frame with a fresh requestId; resolves with the server's answer to it. */
  request(frame: object, timeoutMs = 30_000): Promise<any> {
    const requestId = this.requestId();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new Error(`no answer to ${JSON.stringify(frame).slice(0, 80)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(requestId, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      this.send({ ...frame, requestId });
    });
  }

  close(): Promise<void> {
    this.flushDelivered();
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close(1000);
    });
  }
}

export const newMsgId = () => randomUUID();

/** Bytes of a chat-list preview: a short text sealed under the chat-list key (30 bytes of it overhead). */
export const PREVIEW_BYTES = 90;

/** A chat-list preview as a client seals it: opaque bytes to the server. */
export const sealedPreview = () => randomBytes(PREVIEW_BYTES).toString('base64');
