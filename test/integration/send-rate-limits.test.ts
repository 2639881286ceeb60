/**
 * SEND and GROUP_SEND rate limits through the local stack: per sending device and per sending device →
 * recipient pair, refused with RATE_LIMITED and retryAfterSeconds, storing nothing, on a clock the test moves.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { directConversationId, groupConversationId } from '../../lambdas/send/conversations';
import { DEFAULT_SEND_RATE_LIMITS } from '../../lambdas/send/send-rate-limit';
import { call, connectDevice, registerAccount, request, type DeviceSocket, type TestDevice } from '../support/device-client';
import { readMessageStream } from '../support/message-stream';
import { syncQueue } from '../support/sync-queue';

/** Small enough to reach in a test: 70 messages from a device, then one every 200 ms. */
const PER_DEVICE = { burst: 70, refillMs: 200 };
const PER_RECIPIENT = DEFAULT_SEND_RATE_LIMITS.perRecipient;

let parley: ParleyLocal;
let now = Date.now();
let alice: TestDevice;
let bob: TestDevice;
let carol: TestDevice;
let socket: DeviceSocket;

beforeAll(async () => {
  parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0, now: () => now, sendRateLimits: { perDevice: PER_DEVICE, perRecipient: PER_RECIPIENT } });
  [alice, bob, carol] = await Promise.all(['+14155550951', '+14155550952', '+14155550953'].map((number) => registerAccount(parley, number)));
  socket = await connectDevice(parley, alice);
});
afterAll(async () => {
  await socket?.close();
  await parley?.stop();
});

const sendTo = (to: TestDevice) => ({
  action: 'SEND',
  msgId: randomUUID(),
  conversationId: directConversationId(alice.userId, to.userId),
  to: to.userId,
  seq: 1,
  envelopes: [{ userId: to.userId, deviceId: to.deviceId, registrationId: to.registrationId, type: 'message', ciphertext: 'c2VjcmV0' }],
});

/** Sends the frames at once, as a burst; answers each one's answer in order (a burst takes a while on a busy box). */
async function burst(frames: object[]): Promise<any[]> {
  const requests = frames.map((frame) => ({ ...frame, requestId: randomUUID() }));
  for (const frame of requests) socket.send(frame);
  return Promise.all(requests.map((frame) => socket.next((answer) => answer.requestId === frame.requestId, 30_000)));
}

/** Nothing of the message was stored: not stamped, not streamed, not queued for the recipient. */
async function expectNothingStoredOf(msgId: string, recipient: TestDevice) {
  const { Item } = await parley.clients.db.send(new GetCommand({ TableName: parley.resources.tables.acceptedMessages, Key: { msgId } }));
  expect(Item).toBeUndefined();
  expect((await readMessageStream(parley)).filter((record) => record.data.msgId === msgId)).toEqual([]);
  await parley.drainStreams();
  const recipientSocket = await connectDevice(parley, recipient);
  expect((await syncQueue(recipientSocket)).filter((frame) => frame.msgId === msgId)).toEqual([]);
  await recipientSocket.close();
}

describe('SEND rate limits', () => {
  let toBob: ReturnType<typeof sendTo>[];

  it('refuses the 61st SEND of a burst to one recipient with RATE_LIMITED and retryAfterSeconds, storing nothing of it', async () => {
    toBob = Array.from({ length: PER_RECIPIENT.burst }, () => sendTo(bob));
    expect((await burst(toBob)).map((answer) => answer.type)).toEqual(toBob.map(() => 'ACK'));
    const sixtyFirst = sendTo(bob);
    expect(await request(socket, sixtyFirst)).toMatchObject({
      type: 'ERROR',
      code: 'RATE_LIMITED',
      action: 'SEND',
      retryAfterSeconds: PER_RECIPIENT.refillMs / 1000,
    });
    await expectNothingStoredOf(sixtyFirst.msgId, bob);
  });

  it('answers a retry of an accepted SEND with its first ACK even while the pair is limited', async () => {
    const first = await request(socket, toBob[0]!);
    expect(first).toMatchObject({ type: 'ACK', msgId: toBob[0]!.msgId });
  });

  it('still sends to another recipient, and the refused SENDs spent none of the device’s tokens', async () => {
    // 60 went to Bob; the device's 10 left go to Carol, whatever was refused on the way.
    const toCarol = Array.from({ length: PER_DEVICE.burst - PER_RECIPIENT.burst }, () => sendTo(carol));
    expect((await burst(toCarol)).map((answer) => answer.type)).toEqual(toCarol.map(() => 'ACK'));
    const overDevice = sendTo(carol);
    expect(await request(socket, overDevice)).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 1 });
    await expectNothingStoredOf(overDevice.msgId, carol);
  });

  it('limits GROUP_SEND by the same per-device budget', async () => {
    const groupId = randomUUID();
    expect((await call(parley, 'POST', '/v1/groups', { device: alice, body: { groupId, name: 'Limits', members: [bob.userId] } })).status).toBe(201);
    const groupSend = { action: 'GROUP_SEND', msgId: randomUUID(), conversationId: groupConversationId(groupId), seq: 1, groupVersion: 1, ciphertext: 'AAAA' };
    expect(await request(socket, groupSend)).toMatchObject({ code: 'RATE_LIMITED', action: 'GROUP_SEND', retryAfterSeconds: 1 });
    now += PER_DEVICE.refillMs;
    expect(await request(socket, groupSend)).toMatchObject({ type: 'ACK', msgId: groupSend.msgId });
  });

  it('sends to the limited recipient again once the clock has refilled a token', async () => {
    now += PER_RECIPIENT.refillMs;
    expect(await request(socket, sendTo(bob))).toMatchObject({ type: 'ACK' });
    expect(await request(socket, sendTo(bob))).toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('keeps the device’s token of a SEND refused for its devices, and spends none of the pair’s nor ticks the clock', async () => {
    const carolSocket = await connectDevice(parley, carol);
    const stale = { ...sendTo(bob), conversationId: directConversationId(carol.userId, bob.userId) };
    stale.envelopes = stale.envelopes.map((envelope) => ({ ...envelope, registrationId: bob.registrationId + 1 }));
    expect(await request(carolSocket, stale)).toMatchObject({ type: 'ERROR', code: 'STALE_DEVICES' });
    await carolSocket.close();
    const itemOf = async (TableName: string, Key: object) => (await parley.clients.db.send(new GetCommand({ TableName, Key, ConsistentRead: true }))).Item;
    // Carol and Bob never exchanged a message: their conversation has no clock yet.
    expect(await itemOf(parley.resources.tables.conversationClocks, { conversationId: stale.conversationId })).toBeUndefined();
    expect((await itemOf(parley.resources.tables.rateLimits, { bucket: `send:${carol.userId}.${carol.deviceId}` }))?.tat).toBe(now + PER_DEVICE.refillMs);
    await expectNothingStoredOf(stale.msgId, bob);
  });
});
