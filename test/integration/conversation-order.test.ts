/**
 * A conversation's stamps come from its clock, not from the clock of whichever Lambda accepts a frame: when
 * that clock jumps back, every queue still serves the conversation in the order it was sent, and each
 * receipt after the message it names.
 */
import { randomUUID } from 'node:crypto';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import type { Deps } from '../../lambdas/runtime/deps';
import { directConversationId } from '../../lambdas/send/conversations';
import { nextServerTs } from '../../lambdas/tables/conversation-clocks';
import { connectDevice, linkDevice, registerAccount, request, type DeviceSocket, type TestDevice } from '../support/device-client';
import { syncQueue } from '../support/sync-queue';

/** How far the handlers' clock is behind the real one; tests move it back and forth. */
let lagMs = 0;
let parley: ParleyLocal;
let alice: TestDevice[];
let bob: TestDevice;

beforeAll(async () => {
  parley = await startParleyLocal({
    webSocketPort: 0,
    httpPort: 0,
    now: () => Date.now() - lagMs,
    // Clocks a minute and more apart, as this test makes them, are beyond what a token bucket's one-minute
    // window can tell from a spent bucket: the rate limits get windows far longer than the skew.
    sendRateLimits: { perDevice: { burst: 1_000, refillMs: 1_000 }, perRecipient: { burst: 1_000, refillMs: 1_000 } },
  });
  const alicePhone = await registerAccount(parley, '+14155550601');
  alice = [alicePhone, await linkDevice(parley, alicePhone, 'Tablet')];
  bob = await registerAccount(parley, '+14155550602');
});
afterEach(() => {
  lagMs = 0;
});
afterAll(async () => {
  await parley?.stop();
});

const conversationId = () => directConversationId(alice[0]!.userId, bob.userId);

async function send(socket: DeviceSocket, seq: number) {
  const frame = {
    action: 'SEND',
    requestId: randomUUID(),
    msgId: randomUUID(),
    conversationId: conversationId(),
    to: bob.userId,
    seq,
    envelopes: [bob, alice[1]!].map(({ userId, deviceId, registrationId }) => ({ userId, deviceId, registrationId, type: 'message', ciphertext: Buffer.from(`${seq}`).toString('base64') })),
  };
  socket.send(frame);
  const ack = await socket.next((f) => f.requestId === frame.requestId);
  expect(ack).toMatchObject({ type: 'ACK' });
  return { msgId: frame.msgId, serverTs: ack.serverTs as number };
}

describe('conversation clock', () => {
  it('serves a conversation in send order when the clock of the accepting Lambda jumps back', async () => {
    const sender = await connectDevice(parley, alice[0]!);
    const sent = [];
    for (const [seq, lag] of [0, 60_000, 30_000, 90_000].entries()) {
      lagMs = lag;
      sent.push(await send(sender, seq + 1));
    }
    const stamps = sent.map((message) => message.serverTs);
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
    expect(new Set(stamps).size).toBe(stamps.length);
    await parley.drainStreams();

    const recipient = await connectDevice(parley, bob);
    const served = (await syncQueue(recipient)).filter((f) => f.type === 'PUSH');
    expect(served.map((push) => push.seq)).toEqual([1, 2, 3, 4]);
    expect(await request(recipient, { action: 'DELIVERED', cursors: served.map((push) => push.cursor) })).toMatchObject({ type: 'DELIVERED_ACK' });
    await Promise.all([sender.close(), recipient.close()]);
  });

  it('queues delivered and read receipts after the message they name, even from a Lambda whose clock is behind', async () => {
    const sender = await connectDevice(parley, alice[0]!);
    const message = await send(sender, 10);
    await parley.drainStreams();
    lagMs = 60_000;
    const reader = await connectDevice(parley, bob);
    const [push] = (await syncQueue(reader)).filter((f) => f.msgId === message.msgId);
    expect(await request(reader, { action: 'DELIVERED', cursors: [push.cursor] })).toMatchObject({ type: 'DELIVERED_ACK' });
    expect(await request(reader, { action: 'READ', conversationId: conversationId(), upToMsgId: message.msgId })).toMatchObject({ type: 'READ_ACK' });
    await parley.drainStreams();

    // Alice's tablet was offline: its SYNC serves her own message, then the two receipts for it (the read
    // receipt from its queue, the delivery state after every queued frame; in either order ticks only go up).
    const tablet = await connectDevice(parley, alice[1]!);
    const served = (await syncQueue(tablet)).filter((f) => f.msgId === message.msgId || f.msgIds?.includes(message.msgId));
    expect(served.map((f) => f.status ?? f.type)).toEqual(['PUSH', expect.any(String), expect.any(String)]);
    expect(served.slice(1).map((f) => f.status).sort()).toEqual(['delivered', 'read']);
    for (const receipt of served.slice(1)) expect(receipt.serverTs).toBeGreaterThan(message.serverTs);
    await Promise.all([sender.close(), reader.close(), tablet.close()]);
  });

  it('gives concurrent stamps of one conversation distinct values, one millisecond apart', async () => {
    const now = Date.now() + 3_600_000;
    const deps: Deps = { clients: parley.clients, env: parley.environments.send, now: () => now };
    const stamps = await Promise.all(Array.from({ length: 20 }, () => nextServerTs(deps, `direct:${randomUUID()}:clock-race`)));
    expect(new Set(stamps)).toEqual(new Set([now]));
    const shared = `direct:${randomUUID()}:clock-race`;
    const raced = await Promise.all(Array.from({ length: 20 }, () => nextServerTs(deps, shared)));
    expect([...raced].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => now + i));
  });
});
