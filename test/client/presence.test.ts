/**
 * Typing on the client, on a clock the test moves: a `composing` shown until TYPING_SHOWN_MS pass without
 * a refresh, then an `expired` paused; `setTyping` sends one frame per TYPING_SEND_INTERVAL_MS. (The frames
 * reaching the devices through the local stack are tested in test/e2e/presence.test.ts.)
 */
import type { Connection } from '../../client/connection';
import { Emitter, type ParleyEvents, type TypingEvent } from '../../client/events';
import { PresenceAndTyping, TYPING_SEND_INTERVAL_MS, TYPING_SHOWN_MS } from '../../client/presence';

const from = { userId: 'alice', deviceId: 1 };
const composing = { type: 'TYPING' as const, conversationId: 'c1', from, state: 'composing' as const };

function presenceOnFakeClock() {
  const notified: unknown[] = [];
  const connection = { notify: (frame: unknown) => (notified.push(frame), true) } as unknown as Connection;
  const events = new Emitter<ParleyEvents>();
  const typing: TypingEvent[] = [];
  events.on('typing', (event) => void typing.push(event));
  const presence = new PresenceAndTyping(connection, events, () => Date.now());
  return { presence, typing, notified };
}

beforeEach(() => jest.useFakeTimers({ now: Date.UTC(2026, 11, 1) }));
afterEach(() => jest.useRealTimers());

describe('a composing', () => {
  it('is shown until TYPING_SHOWN_MS pass without a refresh, then ends with an expired paused', () => {
    const { presence, typing } = presenceOnFakeClock();
    presence.received(composing);
    expect(typing).toEqual([{ conversationId: 'c1', from, state: 'composing' }]);
    jest.advanceTimersByTime(TYPING_SHOWN_MS - 1);
    expect(typing).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(typing[1]).toEqual({ conversationId: 'c1', from, state: 'paused', expired: true });
  });

  it('is shown for TYPING_SHOWN_MS from its last refresh', () => {
    const { presence, typing } = presenceOnFakeClock();
    presence.received(composing);
    jest.advanceTimersByTime(TYPING_SHOWN_MS - 1000);
    presence.received(composing);
    jest.advanceTimersByTime(TYPING_SHOWN_MS - 1);
    expect(typing.filter((event) => event.expired)).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(typing.filter((event) => event.expired)).toHaveLength(1);
  });

  it('ended by a paused does not expire later', () => {
    const { presence, typing } = presenceOnFakeClock();
    presence.received(composing);
    presence.received({ ...composing, state: 'paused' });
    jest.advanceTimersByTime(2 * TYPING_SHOWN_MS);
    expect(typing.map((event) => [event.state, event.expired])).toEqual([
      ['composing', undefined],
      ['paused', undefined],
    ]);
  });

  it('of each device is shown on its own', () => {
    const { presence, typing } = presenceOnFakeClock();
    presence.received(composing);
    jest.advanceTimersByTime(TYPING_SHOWN_MS / 2);
    presence.received({ ...composing, from: { userId: 'alice', deviceId: 2 } });
    jest.advanceTimersByTime(TYPING_SHOWN_MS / 2);
    expect(typing.filter((event) => event.expired).map((event) => event.from.deviceId)).toEqual([1]);
    jest.advanceTimersByTime(TYPING_SHOWN_MS / 2);
    expect(typing.filter((event) => event.expired).map((event) => event.from.deviceId)).toEqual([1, 2]);
  });

  it('is forgotten on close: no expiry after it', () => {
    const { presence, typing } = presenceOnFakeClock();
    presence.received(composing);
    presence.close();
    jest.advanceTimersByTime(2 * TYPING_SHOWN_MS);
    expect(typing).toHaveLength(1);
  });
});

describe('setTyping', () => {
  it('sends one composing per TYPING_SEND_INTERVAL_MS for a conversation, and a paused at once', () => {
    const { presence, notified } = presenceOnFakeClock();
    expect([presence.setTyping('c1', 'composing'), presence.setTyping('c1', 'composing')]).toEqual([true, false]);
    expect(presence.setTyping('c2', 'composing')).toBe(true);
    jest.advanceTimersByTime(TYPING_SEND_INTERVAL_MS - 1);
    expect(presence.setTyping('c1', 'composing')).toBe(false);
    jest.advanceTimersByTime(1);
    expect(presence.setTyping('c1', 'composing')).toBe(true);
    expect(notified).toEqual([
      { action: 'TYPING', conversationId: 'c1', state: 'composing' },
      { action: 'TYPING', conversationId: 'c2', state: 'composing' },
      { action: 'TYPING', conversationId: 'c1', state: 'composing' },
    ]);
  });

  it('sends a new composing at once after a paused', () => {
    const { presence, notified } = presenceOnFakeClock();
    presence.setTyping('c1', 'composing');
    expect(presence.setTyping('c1', 'paused')).toBe(true);
    expect(presence.setTyping('c1', 'composing')).toBe(true);
    expect(notified.map((frame) => (frame as { state: string }).state)).toEqual(['composing', 'paused', 'composing']);
  });
});
