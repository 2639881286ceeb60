/** SEND through the local stack: who may send, to which devices, stamped once, on the stream before the ACK. */
import { randomUUID } from 'node:crypto';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { directConversationId } from '../../lambdas/send/conversations';
import { connectDevice, linkDevice, registerAccount, type DeviceSocket, type TestDevice } from '../support/device-client';
import { readMessageStream } from '../support/message-stream';

let parley: ParleyLocal;
let alice: TestDevice[];
let bob: TestDevice[];
let mallory: TestDevice;
let socket: DeviceSocket;

beforeAll(async () => {
  parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0 });
  const alicePhone = await registerAccount(parley, '+14155550201');
  alice = [alicePhone, await linkDevice(parley, alicePhone, 'Tablet')];
  const bobPhone = await registerAccount(parley, '+14155550202');
  bob = [bobPhone, await linkDevice(parley, bobPhone, 'Laptop'), await linkDevice(parley, bobPhone, 'Desktop')];
  mallory = await registerAccount(parley, '+14155550203');
  socket = await connectDevice(parley, alice[0]);
});
afterAll(async () => {
  await socket?.close();
  await parley?.stop();
});

const envelope = (device: TestDevice, ciphertext = 'c2VjcmV0') => ({
  userId: device.userId,
  deviceId: device.deviceId,
  registrationId: device.registrationId,
  type: 'message',
  ciphertext,
});

function sendFrame(overrides: Record<string, unknown> = {}) {
  return {
    action: 'SEND',
    requestId: randomUUID(),
    msgId: randomUUID(),
    conversationId: directConversationId(alice[0]!.userId, bob[0]!.userId),
    to: bob[0]!.userId,
    seq: 1,
    envelopes: [...bob.map((device) => envelope(device)), envelope(alice[1]!)],
    ...overrides,
  };
}

async function send(frame: Record<string, unknown>) {
  socket.send(frame);
  return socket.next((answer) => answer.requestId === frame.requestId);
}

const recordsOf = async (msgId: unknown) => (await readMessageStream(parley)).filter((r) => r.data.msgId === msgId);

describe('SEND', () => {
  it('answers ACK once the message is on the stream, keyed by its conversation, with every envelope', async () => {
    const frame = sendFrame();
    const ack = await send(frame);
    expect(ack).toEqual({ type: 'ACK', msgId: frame.msgId, serverTs: expect.any(Number), requestId: frame.requestId });
    const [record, ...more] = await recordsOf(frame.msgId);
    expect(more).toHaveLength(0);
    expect(record!.partitionKey).toBe(frame.conversationId);
    expect(record!.data).toMatchObject({
      kind: 'message',
      from: { userId: alice[0]!.userId, deviceId: alice[0]!.deviceId },
      to: bob[0]!.userId,
      serverTs: ack.serverTs,
      envelopes: frame.envelopes,
    });
  });

  it('gives a retried SEND the same ACK', async () => {
    const frame = sendFrame();
    const first = await send(frame);
    const again = await send({ ...frame, requestId: 'retry' });
    expect(again).toEqual({ ...first, requestId: 'retry' });
  });

  it('refuses the whole SEND when the envelopes miss a device or address a stranger, naming them', async () => {
    const frame = sendFrame({ envelopes: [envelope(bob[0]!), envelope(bob[1]!), envelope(alice[1]!), envelope(mallory)] });
    const answer = await send(frame);
    expect(answer).toMatchObject({
      type: 'ERROR',
      code: 'MISMATCHED_DEVICES',
      missingDevices: [{ userId: bob[2]!.userId, deviceId: bob[2]!.deviceId }],
      extraDevices: [{ userId: mallory.userId, deviceId: mallory.deviceId }],
    });
    expect(await recordsOf(frame.msgId)).toHaveLength(0);
  });

  it('refuses an envelope for the sending device itself', async () => {
    const frame = sendFrame({ envelopes: [...bob.map((d) => envelope(d)), envelope(alice[1]!), envelope(alice[0]!)] });
    expect(await send(frame)).toMatchObject({ code: 'MISMATCHED_DEVICES', missingDevices: [], extraDevices: [{ deviceId: alice[0]!.deviceId }] });
  });

  it('refuses a conversation the sender is not part of', async () => {
    const frame = sendFrame({ conversationId: directConversationId(bob[0]!.userId, mallory.userId) });
    expect(await send(frame)).toMatchObject({ type: 'ERROR', code: 'FORBIDDEN' });
    expect(await recordsOf(frame.msgId)).toHaveLength(0);
  });

  it.each([
    ['a forged from', { from: { userId: randomUUID(), deviceId: 1 } }, 'from'],
    ['a missing msgId', { msgId: undefined }, 'msgId'],
    ['a negative seq', { seq: -1 }, 'seq'],
    ['ciphertext that is not base64', () => ({ envelopes: [{ ...envelope(bob[0]!), ciphertext: 'not base64!' }] }), 'ciphertext'],
  ])('refuses %s with an error naming it, storing nothing', async (_case, overrides, field) => {
    const frame = sendFrame(typeof overrides === 'function' ? overrides() : overrides);
    const answer = await send(frame);
    expect(answer).toMatchObject({ type: 'ERROR', code: 'BAD_REQUEST', message: expect.stringContaining(field) });
    if (frame.msgId) expect(await recordsOf(frame.msgId)).toHaveLength(0);
  });

  it('accepts 96 KiB of ciphertext, fragmented into 32 KB frames, and refuses one byte more', async () => {
    const quarter = 'A'.repeat((96 * 1024) / 4);
    const envelopes = [...bob.map((d) => envelope(d, quarter)), envelope(alice[1]!, quarter)];
    const atLimit = sendFrame({ envelopes });
    socket.send(atLimit);
    expect(await socket.next((a) => a.requestId === atLimit.requestId)).toMatchObject({ type: 'ACK' });

    const over = sendFrame({ envelopes: [...envelopes.slice(0, 3), envelope(alice[1]!, `${quarter}AAAA`)] });
    socket.send(over);
    expect(await socket.next((a) => a.requestId === over.requestId)).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('ciphertext') });
  });

  it('answers NOT_FOUND for a recipient with no account', async () => {
    const stranger = randomUUID();
    const frame = sendFrame({ to: stranger, conversationId: directConversationId(alice[0]!.userId, stranger), envelopes: [envelope(alice[1]!)] });
    expect(await send(frame)).toMatchObject({ code: 'NOT_FOUND' });
  });
});
