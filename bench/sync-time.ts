/**
 * Catching up after being offline: a device is offline while messages are queued for it (from `senders`
 * users, each sending its conversation's messages one after another, each after the previous ACK); it
 * connects and SYNCs page by page until QUEUE_EMPTY. Timed from the first SYNC to QUEUE_EMPTY; every
 * message must arrive once, each conversation's in the order sent.
 */
import { performance } from 'node:perf_hooks';
import type { ParleyLocal } from '../local/runtime';
import { BenchDevice } from './device';
import { registerUser, sendFrame } from './population';

export interface SyncRun {
  readonly messages: number;
  readonly senders: number;
  /** The senders' SENDs one after another, each after the previous ACK. */
  readonly queueingMs: number;
  /** First SYNC → QUEUE_EMPTY. */
  readonly syncMs: number;
  readonly pages: number;
  readonly messagesPerSecond: number;
  readonly received: number;
  readonly inOrder: boolean;
  /** DELIVERED for all of them, 100 ids a frame. */
  readonly deliveredMs: number;
}

export async function timeSync(parley: ParleyLocal, messages: number, senders = 10): Promise<SyncRun> {
  const [dave] = await registerUser(parley, 1);
  const carols = await Promise.all(Array.from({ length: senders }, async () => BenchDevice.connect(parley, (await registerUser(parley, 1))[0]!)));
  // Each sender's msgIds in the order it sent them.
  const sentBy = new Map<string, string[]>(carols.map((carol) => [carol.credentials.userId, []]));
  const queueingStart = performance.now();
  await Promise.all(
    carols.map(async (sender, index) => {
      const share = Math.floor(messages / senders) + (index < messages % senders ? 1 : 0);
      for (let seq = 1; seq <= share; seq++) {
        const frame = sendFrame(sender.credentials, [dave!], [], seq);
        const answer = await sender.request(frame);
        if (answer.type !== 'ACK') throw new Error(`SEND ${seq} was refused: ${JSON.stringify(answer)}`);
        sentBy.get(sender.credentials.userId)!.push(frame.msgId);
      }
    }),
  );
  await parley.drainStreams();
  const queueingMs = performance.now() - queueingStart;

  const device = await BenchDevice.connect(parley, dave!);
  device.autoDeliver = false;
  const pushes: { msgId: string; from: string; cursor: string }[] = [];
  let pages = 0;
  let cursor: string | undefined;
  const start = performance.now();
  for (;;) {
    const answer = await device.request({ action: 'SYNC', ...(cursor ? { cursor } : {}) }, 60_000);
    pages++;
    if (answer.type !== 'SYNC_PAGE' && answer.type !== 'QUEUE_EMPTY') throw new Error(`SYNC answered ${JSON.stringify(answer)}`);
    for (const frame of answer.frames) if (frame.type === 'PUSH') pushes.push({ msgId: frame.msgId, from: frame.from.userId, cursor: frame.cursor });
    if (answer.type === 'QUEUE_EMPTY') break;
    cursor = answer.cursor;
  }
  const syncMs = performance.now() - start;
  const receivedBy = new Map<string, string[]>();
  for (const push of pushes) receivedBy.set(push.from, [...(receivedBy.get(push.from) ?? []), push.msgId]);
  const inOrder = pushes.length === messages && [...sentBy].every(([sender, sent]) => (receivedBy.get(sender) ?? []).join() === sent.join());
  const cursors = pushes.map((push) => push.cursor);

  const deliveredStart = performance.now();
  for (let i = 0; i < cursors.length; i += 100) {
    const answer = await device.request({ action: 'DELIVERED', cursors: cursors.slice(i, i + 100) });
    if (answer.type !== 'DELIVERED_ACK') throw new Error(`DELIVERED answered ${JSON.stringify(answer)}`);
  }
  const deliveredMs = performance.now() - deliveredStart;
  await Promise.all([device.close(), ...carols.map((carol) => carol.close())]);
  return {
    messages,
    senders,
    queueingMs: Math.round(queueingMs),
    syncMs: Math.round(syncMs),
    pages,
    messagesPerSecond: Math.round((pushes.length / syncMs) * 1000),
    received: pushes.length,
    inOrder,
    deliveredMs: Math.round(deliveredMs),
  };
}
