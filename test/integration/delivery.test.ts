/**
 * Delivery through the local stack: the stream consumer writes every device's queue, pushes to live
 * connections, SYNC drains the queue in order, DELIVERED empties it, and a crashed batch loses nothing.
 */
import { randomUUID } from 'node:crypto';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { directConversationId } from '../../lambdas/send/conversations';
import { call, connectDevice, linkDevice, registerAccount, type DeviceSocket, type TestDevice } from '../support/device-client';
import { queuedItems } from '../support/device-queue';
import { syncQueue } from '../support/sync-queue';

let parley: ParleyLocal;
let alice: TestDevice[];
let bob: TestDevice[];
let crashNextFanout = false;

beforeAll(async () => {
  parley = await startParleyLocal({
    ...(process.env.PARLEY_TEST_LOG ? { log: (line: string) => process.stderr.write(`${line}\n`) } : {}),
    webSocketPort: 0,
    httpPort: 0,
    // Alice's phone queues 270 messages for Bob at once, past the per-recipient limit of a person.
    sendRateLimits: { perDevice: { burst: 1_000, refillMs: 1 }, perRecipient: { burst: 1_000, refillMs: 1 } },
    // Fault injection: the next fanout invocation handles half its batch (all of a one-record batch),
    // then dies before it can answer, as a crashed or timed-out Lambda would.
    intercept: (id, invoke) =>
      id !== 'fanout'
        ? invoke
        : async (event: any) => {
            if (!crashNextFanout) return invoke(event);
            crashNextFanout = false;
            await invoke({ ...event, Records: event.Records.slice(0, Math.ceil(event.Records.length / 2)) });
            throw new Error('the invocation died midway');
          },
  });
  const alicePhone = await registerAccount(parley, '+14155550301');
  alice = [alicePhone, await linkDevice(parley, alicePhone, 'Tablet')];
  const bobPhone = await registerAccount(parley, '+14155550302');
  bob = [bobPhone, await linkDevice(parley, bobPhone, 'Laptop'), await linkDevice(parley, bobPhone, 'Desktop')];
});
afterAll(async () => {
  await parley?.stop();
});

const envelopeFor = (device: TestDevice, text: string) => ({
  userId: device.userId,
  deviceId: device.deviceId,
  registrationId: device.registrationId,
  type: 'message',
  ciphertext: Buffer.from(`${text} for ${device.deviceId}`).toString('base64'),
});

function message(from: TestDevice, seq: number, text = `message ${seq}`) {
  const others = [...alice, ...bob].filter((d) => !(d.userId === from.userId && d.deviceId === from.deviceId));
  const to = from.userId === alice[0]!.userId ? bob[0]!.userId : alice[0]!.userId;
  return {
    action: 'SEND',
    requestId: randomUUID(),
    msgId: randomUUID(),
    conversationId: directConversationId(from.userId, to),
    to,
    seq,
    envelopes: others.map((device) => envelopeFor(device, text)),
  };
}

async function sendAndAck(socket: DeviceSocket, frame: ReturnType<typeof message>) {
  socket.send(frame);
  const ack = await socket.next((f) => f.requestId === frame.requestId);
  expect(ack.type).toBe('ACK');
  return ack;
}

const queueOf = (device: TestDevice) => queuedItems(parley, device);

describe('delivery', () => {
  it('pushes each live device its own envelope, and queues it until DELIVERED', async () => {
    const sockets = await Promise.all([...alice, ...bob].map((device) => connectDevice(parley, device)));
    const frame = message(alice[0]!, 1);
    const ack = await sendAndAck(sockets[0]!, frame);
    for (const [index, device] of [alice[1]!, ...bob].entries()) {
      const push = await sockets[index + 1]!.next((f) => f.type === 'PUSH' && f.msgId === frame.msgId);
      expect(push).toMatchObject({
        conversationId: frame.conversationId,
        from: { userId: alice[0]!.userId, deviceId: alice[0]!.deviceId },
        seq: 1,
        serverTs: ack.serverTs,
        envelope: { type: 'message', ciphertext: Buffer.from(`message 1 for ${device.deviceId}`).toString('base64') },
      });
      expect(await queueOf(device)).toHaveLength(1);
      sockets[index + 1]!.send({ action: 'DELIVERED', cursors: [push.cursor], requestId: 'd' });
      expect(await sockets[index + 1]!.next((f) => f.requestId === 'd')).toEqual({ type: 'DELIVERED_ACK', cursors: [push.cursor], requestId: 'd' });
      expect(await queueOf(device)).toHaveLength(0);
    }
    // Bob's first device to acknowledge moved the conversation's delivery state: the sender's live devices
    // got it once, not once per device of Bob, and nothing was queued for them.
    await parley.drainStreams();
    for (const socket of sockets.slice(0, 2)) {
      expect(await socket.next((f) => f.type === 'RECEIPT')).toEqual({
        type: 'RECEIPT',
        receiptId: expect.any(String),
        status: 'delivered',
        conversationId: frame.conversationId,
        msgIds: [frame.msgId],
        by: { userId: bob[0]!.userId, deviceId: bob[0]!.deviceId },
        upToServerTs: ack.serverTs,
        serverTs: expect.any(Number),
      });
      await expect(socket.next((f) => f.type === 'RECEIPT', 300)).rejects.toThrow('no matching frame');
    }
    expect(await queueOf(alice[0]!)).toHaveLength(0);
    await Promise.all(sockets.map((socket) => socket.close()));
  });

  it('brings delivered and read receipts to the sender’s devices, and read state to the reader’s', async () => {
    const [alicePhone, bobPhone, bobLaptop, bobDesktop] = await Promise.all(
      [alice[0]!, bob[0]!, bob[1]!, bob[2]!].map((device) => connectDevice(parley, device)),
    );
    const frame = message(alice[0]!, 2);
    await sendAndAck(alicePhone!, frame);
    const push = await bobLaptop!.next((f) => f.type === 'PUSH' && f.msgId === frame.msgId);
    bobLaptop!.send({ action: 'DELIVERED', cursors: [push.cursor], requestId: 'd2' });
    await bobLaptop!.next((f) => f.requestId === 'd2');
    const delivered = await alicePhone!.next((f) => f.type === 'RECEIPT' && f.status === 'delivered');
    expect(delivered).toMatchObject({ msgIds: [frame.msgId], conversationId: frame.conversationId, by: { userId: bob[1]!.userId, deviceId: bob[1]!.deviceId } });

    bobPhone!.send({ action: 'READ', conversationId: frame.conversationId, upToMsgId: frame.msgId, requestId: 'r2' });
    expect(await bobPhone!.next((f) => f.requestId === 'r2')).toMatchObject({ type: 'READ_ACK' });
    for (const socket of [alicePhone!, bobLaptop!, bobDesktop!]) {
      expect(await socket.next((f) => f.type === 'RECEIPT' && f.status === 'read')).toMatchObject({ msgIds: [frame.msgId], by: { deviceId: bob[0]!.deviceId } });
    }
    // Alice's tablet was offline: the read receipt waits in its queue, and its SYNC ends with the
    // conversation's delivery state, after every queued frame.
    await parley.drainStreams();
    const tablet = await connectDevice(parley, alice[1]!);
    const queued = await syncQueue(tablet);
    const receipts = queued.filter((f) => f.type === 'RECEIPT' && f.conversationId === frame.conversationId);
    expect(receipts.at(-1)).toMatchObject({ status: 'delivered', upToServerTs: expect.any(Number), by: { userId: bob[1]!.userId } });
    expect(receipts.at(-1)).not.toHaveProperty('cursor');
    expect(receipts.find((f) => f.status === 'read' && f.msgIds.includes(frame.msgId))).toMatchObject({ cursor: expect.any(String) });
    // A SYNC that names the newest state it saw gets no state again.
    tablet.send({ action: 'SYNC', requestId: 'after', receiptsAfter: receipts.at(-1).serverTs + 60_000 });
    expect((await tablet.next((f) => f.requestId === 'after')).frames.filter((f: any) => f.type === 'RECEIPT' && !f.cursor)).toEqual([]);
    await Promise.all([alicePhone, bobPhone, bobLaptop, bobDesktop, tablet].map((socket) => socket!.close()));
  });

  it('keeps each user’s chat list: newest first, unread counted once, cleared by READ', async () => {
    const sender = await connectDevice(parley, alice[0]!);
    const frames = [message(alice[0]!, 3), message(alice[0]!, 4)];
    for (const frame of frames) await sendAndAck(sender, frame);
    await parley.drainStreams();
    const list = async (device: TestDevice) => (await call(parley, 'GET', '/v1/conversations', { device })).body.conversations;
    const [bobsView] = await list(bob[2]!);
    expect(bobsView).toMatchObject({ conversationId: frames[0]!.conversationId, lastMsgId: frames[1]!.msgId });
    expect(bobsView.unreadCount).toBe(2);
    expect((await list(alice[1]!))[0]).toMatchObject({ conversationId: frames[0]!.conversationId, unreadCount: 0 });
    const reader = await connectDevice(parley, bob[2]!);
    reader.send({ action: 'READ', conversationId: frames[0]!.conversationId, upToMsgId: frames[1]!.msgId, requestId: 'read' });
    await reader.next((f) => f.requestId === 'read');
    expect((await list(bob[0]!))[0].unreadCount).toBe(0);
    await Promise.all([sender.close(), reader.close()]);
  });

  it('refuses READ of a conversation the reader is not in', async () => {
    const socket = await connectDevice(parley, bob[0]!);
    socket.send({ action: 'READ', conversationId: directConversationId(alice[0]!.userId, randomUUID()), upToMsgId: randomUUID(), requestId: 'x' });
    expect(await socket.next((f) => f.requestId === 'x')).toMatchObject({ type: 'ERROR', code: 'FORBIDDEN' });
    await socket.close();
  });

  it('keeps messages for an offline device and hands them over in order by SYNC', async () => {
    const sender = await connectDevice(parley, alice[0]!);
    const frames = Array.from({ length: 105 }, (_, i) => message(alice[0]!, 100 + i));
    // A device sends a conversation's messages one after another, each after the previous ACK: SENDs
    // in flight together are handled concurrently, as on AWS, and may be stamped in any order.
    for (const frame of frames) await sendAndAck(sender, frame);
    await parley.drainStreams();
    const laptop = await connectDevice(parley, bob[1]!);
    const pushes = (await syncQueue(laptop)).filter((f) => f.type === 'PUSH' && f.seq >= 100);
    expect(pushes.map((p) => p.seq)).toEqual(frames.map((f) => f.seq));
    const queuedMessages = async () => (await queueOf(bob[1]!)).filter((item) => item.frame.type === 'PUSH' && item.frame.seq >= 100);
    // Nothing is forgotten before DELIVERED: a device that drops mid-SYNC starts again from its cursor.
    expect(await queuedMessages()).toHaveLength(105);
    for (let i = 0; i < pushes.length; i += 100) {
      laptop.send({ action: 'DELIVERED', cursors: pushes.slice(i, i + 100).map((f) => f.cursor), requestId: `d${i}` });
      await laptop.next((f) => f.requestId === `d${i}`);
    }
    expect(await queuedMessages()).toHaveLength(0);
    await laptop.close();
    await sender.close();
  });

  it('loses nothing when a device drops its socket mid-SYNC, and after dedupe by msgId sees nothing twice', async () => {
    const sender = await connectDevice(parley, alice[0]!);
    const frames = Array.from({ length: 110 }, (_, i) => message(alice[0]!, 300 + i));
    for (const frame of frames) await sendAndAck(sender, frame);
    await parley.drainStreams();
    const wanted = frames.map((f) => f.msgId);
    // Start from an empty queue: acknowledge what earlier tests left for this device, except these.
    const cleaner = await connectDevice(parley, bob[2]!);
    const backlog = (await syncQueue(cleaner)).filter((f) => f.cursor && !wanted.includes(f.msgId)).map((f) => f.cursor);
    for (let i = 0; i < backlog.length; i += 100) {
      cleaner.send({ action: 'DELIVERED', cursors: backlog.slice(i, i + 100), requestId: `bl${i}` });
      await cleaner.next((f) => f.requestId === `bl${i}`);
    }
    await cleaner.close();

    const first = await connectDevice(parley, bob[2]!);
    first.send({ action: 'SYNC', requestId: 'sync-1' });
    const page = await first.next((f) => f.requestId === 'sync-1');
    expect(page).toMatchObject({ type: 'SYNC_PAGE', frames: expect.any(Array) });
    const before: any[] = page.frames.filter((f: any) => f.type === 'PUSH' && f.seq >= 300);
    expect(before.length).toBeGreaterThan(0);
    // Ask for the next page and drop the socket before the answer: dropped, not closed, no DELIVERED sent.
    first.send({ action: 'SYNC', requestId: 'sync-2', cursor: page.cursor });
    first.socket.terminate();
    await first.closed;

    const again = await connectDevice(parley, bob[2]!);
    const after = (await syncQueue(again)).filter((f) => f.type === 'PUSH' && f.seq >= 300);
    // The client drops what it already has by msgId; together the two sessions hold every message once.
    const seen = new Set(before.map((f) => f.msgId));
    const fresh = after.filter((f) => !seen.has(f.msgId));
    expect([...seen, ...fresh.map((f) => f.msgId)]).toEqual(wanted);
    expect(after.map((f) => f.msgId)).toEqual(wanted);
    for (let i = 0; i < after.length; i += 100) {
      again.send({ action: 'DELIVERED', cursors: after.slice(i, i + 100).map((f) => f.cursor), requestId: `dd${i}` });
      await again.next((f) => f.requestId === `dd${i}`);
    }
    expect((await queueOf(bob[2]!)).filter((item) => item.frame.type === 'PUSH' && item.frame.seq >= 300)).toHaveLength(0);
    await Promise.all([again.close(), sender.close()]);
  });

  it('loses nothing and queues nothing twice when a fanout invocation dies midway', async () => {
    const sender = await connectDevice(parley, bob[0]!);
    crashNextFanout = true;
    const frames = Array.from({ length: 40 }, (_, i) => message(bob[0]!, 500 + i));
    // Put them all before the consumer reads, so they arrive as one batch.
    for (const frame of frames) sender.send(frame);
    for (const frame of frames) await sender.next((f) => f.requestId === frame.requestId);
    await parley.drainStreams();
    expect(crashNextFanout).toBe(false);
    for (const device of [alice[0]!, alice[1]!, bob[1]!]) {
      // Exactly once per device; order is another test's (these SENDs were in flight together).
      const queued = (await queueOf(device)).filter((item) => item.frame.seq >= 500);
      expect(queued.map((item) => item.frame.seq).sort((a, b) => a - b)).toEqual(frames.map((f) => f.seq));
    }
    expect(parley.failedBatches).toHaveLength(0);
    await sender.close();
  });
});
