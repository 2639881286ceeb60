/**
 * A fault campaign against the local stack: many 1:1 messages while fanout invocations die midway, stream
 * batches are delivered twice and old ones replayed out of order, devices drop their sockets mid-SYNC, and
 * the whole stack is stopped and started again on its data. Afterwards every message must have reached
 * every device it addressed, once after the client's dedupe by (sender, msgId), and each conversation in
 * the order it was sent. `npm run chaos` runs it at full size; the test suite at a small one.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { KinesisStreamEvent } from 'aws-lambda';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { directConversationId } from '../../lambdas/send/conversations';
import { connectDevice, linkDevice, registerAccount, type DeviceSocket, type TestDevice } from '../support/device-client';

export interface ChaosOptions {
  /** Users who send, one device each. */
  readonly senders: number;
  /** Users who receive, each with a phone and a linked device. */
  readonly recipients: number;
  /** Messages each sender sends each recipient, one at a time after the ACK. */
  readonly messagesPerConversation: number;
  /** Chance that a fanout invocation handles half its batch and dies; also of a batch delivered twice, and of an old batch replayed after it. */
  readonly faultRate: number;
  /** Chance that a receiving device drops its socket after a SYNC page. */
  readonly socketDropRate: number;
  /** Times the stack is stopped and started again on its data while messages are on their way. */
  readonly restarts: number;
  /** Gives up waiting for deliveries after this long. */
  readonly timeoutMs: number;
  readonly log?: (line: string) => void;
}

export interface ChaosReport {
  readonly sent: number;
  /** Deliveries owed: each message times the devices it addressed. */
  readonly expected: number;
  readonly delivered: number;
  readonly lost: number;
  /** Distinct deliveries seen more than once after dedupe: must be 0. */
  readonly duplicated: number;
  /** Conversations on some device whose messages, in server order, were not in the order sent. */
  readonly outOfOrder: number;
  /** Copies that arrived again (a redelivered record, a PUSH and a SYNC of the same message), dropped by dedupe. */
  readonly redeliveredCopies: number;
  readonly faults: { killedInvocations: number; doubledBatches: number; replayedBatches: number; socketDrops: number; restarts: number; retriedSends: number };
  readonly seconds: number;
}

interface Received {
  readonly conversationId: string;
  readonly seq: number;
  readonly serverTs: number;
  copies: number;
}

const deviceKey = (device: { userId: string; deviceId: number }) => `${device.userId}.${device.deviceId}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The fanout, wrapped to fail the way Lambda and Kinesis can: dead invocations, doubled and stale deliveries. */
function faultyFanout(options: ChaosOptions, faults: { killedInvocations: number; doubledBatches: number; replayedBatches: number }) {
  const handled: KinesisStreamEvent[] = [];
  const chance = () => Math.random() < options.faultRate;
  return (invoke: (event: unknown) => Promise<unknown>) =>
    async (event: unknown): Promise<unknown> => {
      const batch = event as KinesisStreamEvent;
      if (chance()) {
        faults.killedInvocations++;
        await invoke({ ...batch, Records: batch.Records.slice(0, Math.ceil(batch.Records.length / 2)) });
        throw new Error('chaos: the invocation died midway');
      }
      const answer = await invoke(batch);
      if (chance()) {
        faults.doubledBatches++;
        await invoke(batch);
      }
      if (handled.length && chance()) {
        // An old batch again, after newer ones: Kinesis delivers at least once, not in order across retries.
        faults.replayedBatches++;
        await invoke(handled[Math.floor(Math.random() * handled.length)]);
      }
      handled.push(batch);
      if (handled.length > 200) handled.shift();
      return answer;
    };
}

export async function runChaosCampaign(options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'parley-chaos-'));
  const faults = { killedInvocations: 0, doubledBatches: 0, replayedBatches: 0, socketDrops: 0, restarts: 0, retriedSends: 0 };
  const wrapFanout = faultyFanout(options, faults);
  const start = () =>
    startParleyLocal({
      dataDir,
      webSocketPort: 0,
      httpPort: 0,
      limits: { newConnectionsPerSecond: 10_000 },
      intercept: (id, invoke) => (id === 'fanout' ? wrapFanout(invoke) : invoke),
    });
  let parley: ParleyLocal = await start();
  /** Resolves once the stack is up again after a restart; clients wait on it before reconnecting. */
  let up: Promise<ParleyLocal> = Promise.resolve(parley);

  try {
    const phone = (n: number) => `+1415557${String(n).padStart(4, '0')}`;
    const senders = await Promise.all(Array.from({ length: options.senders }, (_, i) => registerAccount(parley, phone(i))));
    const recipients: TestDevice[][] = [];
    for (let i = 0; i < options.recipients; i++) {
      const primary = await registerAccount(parley, phone(5000 + i));
      recipients.push([primary, await linkDevice(parley, primary, 'Laptop')]);
    }
    const receivingDevices = recipients.flat();
    const totalMessages = options.senders * options.recipients * options.messagesPerConversation;

    // What each device has received, by sender and msgId (the client's dedupe key).
    const inbox = new Map<string, Map<string, Received>>(receivingDevices.map((device) => [deviceKey(device), new Map()]));
    let redeliveredCopies = 0;
    const expected = new Map<string, { to: string; seq: number }>(); // `${from}:${msgId}` → message
    let sendingDone = false;

    const record = (device: TestDevice, frame: any): void => {
      if (frame.type !== 'PUSH') return;
      const seen = inbox.get(deviceKey(device))!;
      const key = `${frame.from.userId}:${frame.msgId}`;
      const before = seen.get(key);
      if (before) {
        before.copies++;
        redeliveredCopies++;
      } else seen.set(key, { conversationId: frame.conversationId, seq: frame.seq, serverTs: frame.serverTs, copies: 1 });
    };

    /** A receiving device: connects, SYNCs page by page (sometimes dropping mid-SYNC), keeps what is pushed, acknowledges it all. */
    const receive = async (device: TestDevice): Promise<void> => {
      const seen = inbox.get(deviceKey(device))!;
      const owed = () => [...expected].filter(([key, message]) => message.to === device.userId && !seen.has(key)).length;
      const waiting = () => !(sendingDone && owed() === 0) && Date.now() - started < options.timeoutMs;
      // Offline at first, so that the first SYNC has a queue to page through.
      while (expected.size < totalMessages / 3) await sleep(20);
      while (waiting()) {
        let socket: DeviceSocket;
        try {
          socket = await connectDevice(await up, device);
        } catch {
          await sleep(50);
          continue;
        }
        const unacknowledged = new Set<string>();
        socket.socket.on('message', (data) => {
          const frame = JSON.parse(data.toString());
          const frames = frame.type === 'SYNC_PAGE' || frame.type === 'QUEUE_EMPTY' ? frame.frames : [frame];
          for (const queued of frames) {
            record(device, queued);
            // Only queued frames have a cursor; a 1:1 delivery state is not acknowledged.
            if (queued.cursor) unacknowledged.add(queued.cursor);
          }
        });
        const acknowledge = () => {
          // Acknowledge only what is recorded (stored), in batches of up to 100.
          const cursors = [...unacknowledged].slice(0, 100);
          if (!cursors.length || socket.socket.readyState !== socket.socket.OPEN) return;
          for (const cursor of cursors) unacknowledged.delete(cursor);
          socket.send({ action: 'DELIVERED', cursors });
        };
        try {
          let cursor: string | undefined;
          for (;;) {
            const requestId = randomUUID();
            socket.send({ action: 'SYNC', requestId, ...(cursor ? { cursor } : {}) });
            const page = await socket.next((frame) => frame.requestId === requestId, 10_000);
            if (page.type !== 'SYNC_PAGE' && page.type !== 'QUEUE_EMPTY') throw new Error(`SYNC answered ${page.type}`);
            if (page.frames.length && Math.random() < options.socketDropRate) {
              // Gone with a page in hand and nothing of it acknowledged: all of it must come again.
              faults.socketDrops++;
              throw new Error('chaos: the socket dropped mid-SYNC');
            }
            acknowledge();
            if (page.type === 'QUEUE_EMPTY') break;
            cursor = page.cursor;
          }
          // Live now: acknowledge what is pushed, until everything owed is here or the socket drops.
          while (socket.socket.readyState === socket.socket.OPEN && waiting()) {
            acknowledge();
            await Promise.race([sleep(25), socket.closed]);
            if (!sendingDone && Math.random() < options.socketDropRate / 20) {
              // Offline for a moment (a tunnel, a lift): what comes meanwhile waits in the queue for the next SYNC.
              acknowledge();
              await socket.close();
              await sleep(100 + Math.random() * 200);
            }
          }
          acknowledge();
        } catch {
          // Dropped (by chaos or a restart): connect again and SYNC from the start.
        } finally {
          await socket.close().catch(() => undefined);
        }
      }
    };

    /** A sending device: each conversation one message at a time, retrying the same frame until it is ACKed. */
    const send = async (sender: TestDevice, s: number): Promise<void> => {
      let socket: DeviceSocket | undefined;
      const ack = async (frame: Record<string, unknown>): Promise<void> => {
        for (let attempt = 0; ; attempt++) {
          if (attempt > 0) faults.retriedSends++;
          try {
            if (!socket || socket.socket.readyState !== socket.socket.OPEN) socket = await connectDevice(await up, sender);
            const requestId = randomUUID();
            socket.send({ ...frame, requestId });
            const answer = await Promise.race([socket.next((f) => f.requestId === requestId, 10_000), socket.closed.then(() => undefined)]);
            if (answer?.type === 'ACK') return;
            if (answer?.type === 'ERROR' && answer.code !== 'INTERNAL') throw new Error(`SEND refused: ${JSON.stringify(answer)}`);
          } catch (error) {
            if ((error as Error).message.startsWith('SEND refused')) throw error;
          }
          await sleep(50);
        }
      };
      for (let seq = 1; seq <= options.messagesPerConversation; seq++) {
        for (const [r, devices] of recipients.entries()) {
          const msgId = randomUUID();
          const conversationId = directConversationId(sender.userId, devices[0]!.userId);
          expected.set(`${sender.userId}:${msgId}`, { to: devices[0]!.userId, seq });
          await ack({
            action: 'SEND',
            msgId,
            conversationId,
            to: devices[0]!.userId,
            seq,
            envelopes: devices.map((device) => ({
              userId: device.userId,
              deviceId: device.deviceId,
              registrationId: device.registrationId,
              type: 'message',
              ciphertext: Buffer.from(`chaos ${s}>${r} #${seq}`).toString('base64'),
            })),
          });
        }
      }
      await socket?.close();
    };

    /** Stops the stack and starts it again on its data, while messages are on their way. */
    const restarts = async (): Promise<void> => {
      for (let i = 1; i <= options.restarts; i++) {
        while (expected.size < (totalMessages * i) / (options.restarts + 1)) await sleep(20);
        let restarted!: (p: ParleyLocal) => void;
        up = new Promise((resolve) => (restarted = resolve));
        log(`restart ${i}: stopping the stack with ${expected.size} messages sent`);
        await parley.stop();
        parley = await start();
        faults.restarts++;
        restarted(parley);
      }
    };

    const receiving = Promise.all(receivingDevices.map(receive));
    await Promise.all([...senders.map(send), restarts()]);
    sendingDone = true;
    log(`all ${expected.size} messages ACKed; waiting for deliveries`);
    await receiving;

    let delivered = 0;
    let lost = 0;
    let duplicated = 0;
    let outOfOrder = 0;
    for (const device of receivingDevices) {
      const seen = inbox.get(deviceKey(device))!;
      for (const [key, message] of expected) {
        if (message.to !== device.userId) continue;
        if (seen.has(key)) delivered++;
        else lost++;
      }
      // Dedupe is by (sender, msgId): a message seen under two serverTs values would be two messages.
      const byConversation = new Map<string, Received[]>();
      for (const received of seen.values()) byConversation.set(received.conversationId, [...(byConversation.get(received.conversationId) ?? []), received]);
      for (const messages of byConversation.values()) {
        const inServerOrder = [...messages].sort((a, b) => a.serverTs - b.serverTs).map((m) => m.seq);
        if (new Set(inServerOrder).size !== inServerOrder.length) duplicated += inServerOrder.length - new Set(inServerOrder).size;
        if (inServerOrder.some((seq, i) => i > 0 && seq < inServerOrder[i - 1]!)) outOfOrder++;
      }
    }
    return {
      sent: expected.size,
      // Every message addressed both devices of its recipient.
      expected: expected.size * 2,
      delivered,
      lost,
      duplicated,
      outOfOrder,
      redeliveredCopies,
      faults,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
  } finally {
    await parley.stop().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  }
}
