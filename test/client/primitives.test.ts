/** The SDK's small parts: reconnect schedule, per-key queue, DELIVERED batching, content format, dedupe memory, events. */
import { Backoff } from '../../client/backoff';
import { decodeContent, encodeContent } from '../../client/content';
import { DeliveryAcknowledger } from '../../client/delivery-acknowledger';
import { Emitter } from '../../client/events';
import { KeyedQueue } from '../../client/keyed-queue';
import { SeenMessages } from '../../client/seen-messages';
import { MemoryStore } from '../../client/store/memory-store';

describe('Backoff', () => {
  it('starts at 1 s and doubles to 60 s, each delay between half and all of its step', () => {
    const lowest = new Backoff({ random: () => 0 });
    const highest = new Backoff({ random: () => 0.999999 });
    const steps = [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000];
    expect(steps.map(() => lowest.nextDelayMs())).toEqual(steps.map((step) => step / 2));
    expect(steps.map(() => highest.nextDelayMs())).toEqual(steps);
  });

  it('spreads clients that fail together', () => {
    const delays = Array.from({ length: 200 }, () => new Backoff().nextDelayMs());
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...delays)).toBeLessThanOrEqual(1000);
    expect(new Set(delays).size).toBeGreaterThan(50);
  });

  it('starts again at 1 s after a healthy connection', () => {
    const backoff = new Backoff({ random: () => 0.999999 });
    backoff.nextDelayMs();
    backoff.nextDelayMs();
    backoff.reset();
    expect(backoff.nextDelayMs()).toBe(1000);
  });
});

describe('KeyedQueue', () => {
  const tick = () => new Promise((resolve) => setTimeout(resolve, 2));

  it('runs one task at a time per key, in order, and keys side by side', async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const task = (name: string) => async () => {
      log.push(`start ${name}`);
      await tick();
      log.push(`end ${name}`);
      return name;
    };
    const results = await Promise.all([queue.run('a', task('a1')), queue.run('b', task('b1')), queue.run('a', task('a2'))]);
    expect(results).toEqual(['a1', 'b1', 'a2']);
    expect(log.indexOf('start a2')).toBeGreaterThan(log.indexOf('end a1'));
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'));
    expect(queue.activeKeys).toBe(0);
  });

  it('runs the next task after one that failed', async () => {
    const queue = new KeyedQueue();
    const failed = queue.run('a', async () => {
      throw new Error('no');
    });
    const next = queue.run('a', async () => 'yes');
    await expect(failed).rejects.toThrow('no');
    await expect(next).resolves.toBe('yes');
  });
});

describe('DeliveryAcknowledger', () => {
  it('sends what arrives within the window as one DELIVERED, and at most 100 ids per frame', async () => {
    const batches: string[][] = [];
    const acknowledger = new DeliveryAcknowledger(async (ids) => void batches.push(ids), 10);
    for (let i = 0; i < 3; i++) acknowledger.add(`m${i}`);
    expect(batches).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(batches).toEqual([['m0', 'm1', 'm2']]);
    for (let i = 0; i < 250; i++) acknowledger.add(`n${i}`);
    expect(batches.slice(1).map((batch) => batch.length)).toEqual([100, 100]);
    acknowledger.flush();
    expect(batches.slice(1).map((batch) => batch.length)).toEqual([100, 100, 50]);
  });

  it('acknowledges each group by its newest handled cursor, never at or past a message still held', () => {
    const frames: { msgIds: string[]; groups: { conversationId: string; cursor: string }[] }[] = [];
    let held: string | undefined = 'c3';
    const acknowledger = new DeliveryAcknowledger(async (msgIds, _previews, groups) => void frames.push({ msgIds, groups }), 10, 100, (conversationId) =>
      conversationId === 'group:a' ? held : undefined,
    );
    for (const cursor of ['c1', 'c2', 'c4']) acknowledger.addGroup('group:a', cursor);
    acknowledger.addGroup('group:b', 'c9');
    acknowledger.flush();
    expect(frames).toEqual([{ msgIds: [], groups: [{ conversationId: 'group:a', cursor: 'c2' }, { conversationId: 'group:b', cursor: 'c9' }] }]);
    // The held message is handled: the one after it was waiting, and goes now.
    held = undefined;
    acknowledger.addGroup('group:a', 'c3');
    acknowledger.flush();
    expect(frames[1]).toEqual({ msgIds: [], groups: [{ conversationId: 'group:a', cursor: 'c4' }] });
  });

  it('forgets the queued frames pending when the connection is gone, and keeps the group cursors for the next SYNC', async () => {
    const batches: string[][] = [];
    const acknowledger = new DeliveryAcknowledger(async (ids) => void batches.push(ids), 5);
    acknowledger.add('m');
    acknowledger.setSyncing(true);
    acknowledger.addGroup('group:a', 'c1');
    acknowledger.clear();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(batches).toEqual([]);
    expect(acknowledger.takeGroupCursors()).toEqual([{ conversationId: 'group:a', cursor: 'c1' }]);
  });

  it('sends the group messages a SYNC brought with the next SYNC, or with a DELIVERED sent sooner, or after the group window', async () => {
    const frames: { msgIds: string[]; groups: { conversationId: string; cursor: string }[] }[] = [];
    const acknowledger = new DeliveryAcknowledger(async (msgIds, _previews, groups) => void frames.push({ msgIds, groups }), 5, 100, undefined, 40);
    acknowledger.setSyncing(true);
    acknowledger.addGroup('group:a', 'c1', { conversationId: 'group:a', serverTs: 1, ciphertext: 'AAAA' });
    acknowledger.addGroup('group:a', 'c2');
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Past the 1:1 window, nothing sent: the next SYNC takes them (and gives them back if it fails).
    expect(frames).toEqual([]);
    const taken = acknowledger.takeGroupCursors();
    expect(taken).toEqual([{ conversationId: 'group:a', cursor: 'c2' }]);
    expect(acknowledger.takeGroupCursors()).toEqual([]);
    acknowledger.restore(taken);
    // A 1:1 frame's DELIVERED carries them.
    acknowledger.add('m1');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(frames).toEqual([{ msgIds: ['m1'], groups: [{ conversationId: 'group:a', cursor: 'c2' }] }]);
    // With no other frame, the group window ends with a DELIVERED of their own.
    acknowledger.addGroup('group:b', 'c9');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(frames).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(frames[1]).toEqual({ msgIds: [], groups: [{ conversationId: 'group:b', cursor: 'c9' }] });
    // Online again: a live group message is acknowledged within the 1:1 window, as before.
    acknowledger.setSyncing(false);
    acknowledger.addGroup('group:b', 'c10');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(frames[2]).toEqual({ msgIds: [], groups: [{ conversationId: 'group:b', cursor: 'c10' }] });
  });
});

describe('message content', () => {
  it('carries text or bytes and the send time, padded to a multiple of 160 bytes', () => {
    const text = encodeContent({ text: 'héllo 👋', sentAt: 1234 });
    expect(text.length % 160).toBe(0);
    expect(decodeContent(text)).toEqual({ text: 'héllo 👋', sentAt: 1234 });
    const data = encodeContent({ data: new Uint8Array([0, 0x80, 255]), sentAt: 5 });
    expect(decodeContent(data)).toEqual({ data: new Uint8Array([0, 0x80, 255]), sentAt: 5 });
    expect(encodeContent({ text: 'x'.repeat(500), sentAt: 1 }).length).toBe(640);
  });

  it('hides lengths within a block: 1 and 100 characters make ciphertext of one size', () => {
    expect(encodeContent({ text: 'a', sentAt: 1 }).length).toBe(encodeContent({ text: 'a'.repeat(100), sentAt: 1 }).length);
  });

  it('refuses what is not a padded version-1 content', () => {
    expect(() => decodeContent(new Uint8Array(Buffer.from('{"v":1,"sentAt":1}')))).toThrow('not padded');
    const bad = (json: string) => {
      const bytes = new Uint8Array(160);
      bytes.set(Buffer.from(json));
      bytes[json.length] = 0x80;
      return bytes;
    };
    expect(() => decodeContent(bad('{"v":0,"sentAt":1}'))).toThrow('not a message content');
    expect(() => decodeContent(bad('{"v":1,"sentAt":1,"text":7}'))).toThrow('text');
  });
});

describe('SeenMessages', () => {
  it('remembers ids in the store and forgets them after 32 days', async () => {
    let now = 0;
    const store = new MemoryStore();
    const seen = new SeenMessages(store, () => now);
    await seen.add('old');
    now = 20 * 24 * 3600 * 1000;
    await seen.add('recent');
    expect(await new SeenMessages(store, () => now).has('old')).toBe(true);
    now = 33 * 24 * 3600 * 1000;
    expect(await seen.prune()).toBe(1);
    expect([await seen.has('old'), await seen.has('recent')]).toEqual([false, true]);
  });
});

describe('Emitter', () => {
  it('awaits listeners in order and reports a failing listener as an error event', async () => {
    const events = new Emitter<{ ping: number; error: Error }>();
    const log: string[] = [];
    events.on('ping', async (n) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      log.push(`slow ${n}`);
    });
    const remove = events.on('ping', () => {
      throw new Error('listener broke');
    });
    events.on('error', (error) => void log.push(`error ${error.message}`));
    await events.emit('ping', 1);
    remove();
    await events.emit('ping', 2);
    expect(log).toEqual(['slow 1', 'error listener broke', 'slow 2']);
  });
});
