/**
 * Presence and typing on the client: the users this device watches (subscribed again after every
 * reconnect, since a subscription lives as long as its connection), `presence` and `typing` events, a
 * `composing` that expires after TYPING_SHOWN_MS without a refresh, and a `setTyping` that throttles itself.
 */
import type { PresenceSubscribedFrame } from '../lambdas/protocol/frames';
import type { Connection, EphemeralFrame } from './connection';
import type { Emitter, ParleyEvents, PresenceEvent } from './events';

/** How long a `composing` is shown without a refresh (the issue's ~5 s). */
export const TYPING_SHOWN_MS = 5000;
/** The least time between two TYPING frames this device sends for one conversation and state (the server drops faster ones). */
export const TYPING_SEND_INTERVAL_MS = 2500;

export class PresenceAndTyping {
  private watched: readonly string[] = [];
  private readonly shownTyping = new Map<string, NodeJS.Timeout>();
  private readonly lastSent = new Map<string, number>();

  constructor(
    private readonly connection: Connection,
    private readonly events: Emitter<ParleyEvents>,
    private readonly now: () => number,
  ) {}

  /** Watches exactly these users (up to 64) from now on; answers their presence now. `[]` stops. */
  async subscribe(userIds: readonly string[]): Promise<PresenceEvent[]> {
    this.watched = [...userIds];
    const answer = await this.connection.request<PresenceSubscribedFrame>({ action: 'SUBSCRIBE_PRESENCE', userIds: this.watched });
    for (const view of answer.presence) await this.events.emit('presence', view);
    return answer.presence;
  }

  /** After a reconnect: the new connection watches what the old one did. */
  async resubscribe(): Promise<void> {
    if (this.watched.length) await this.subscribe(this.watched);
  }

  /**
   * Tells the conversation's other devices this user is typing or stopped. A `composing` within
   * TYPING_SEND_INTERVAL_MS of the last one is not sent (the receivers still show the last for 5 s); answers whether it was sent.
   */
  setTyping(conversationId: string, state: 'composing' | 'paused'): boolean {
    const key = `${conversationId}:${state}`;
    const last = this.lastSent.get(key);
    if (last !== undefined && this.now() - last < TYPING_SEND_INTERVAL_MS) return false;
    const sent = this.connection.notify({ action: 'TYPING', conversationId, state });
    if (sent) this.lastSent.set(key, this.now());
    // A new composing after a pause goes out at once.
    if (state === 'paused') this.lastSent.delete(`${conversationId}:composing`);
    return sent;
  }

  /** A PRESENCE or TYPING frame from the server. */
  received(frame: EphemeralFrame): void {
    if (frame.type === 'PRESENCE') {
      const { type: _type, ...view } = frame;
      void this.events.emit('presence', view);
      return;
    }
    const key = `${frame.conversationId}:${frame.from.userId}.${frame.from.deviceId}`;
    clearTimeout(this.shownTyping.get(key));
    this.shownTyping.delete(key);
    const event = { conversationId: frame.conversationId, from: frame.from, state: frame.state };
    if (frame.state === 'composing') {
      const timer = setTimeout(() => {
        this.shownTyping.delete(key);
        void this.events.emit('typing', { ...event, state: 'paused', expired: true });
      }, TYPING_SHOWN_MS);
      timer.unref();
      this.shownTyping.set(key, timer);
    }
    void this.events.emit('typing', event);
  }

  close(): void {
    for (const timer of this.shownTyping.values()) clearTimeout(timer);
    this.shownTyping.clear();
  }
}
