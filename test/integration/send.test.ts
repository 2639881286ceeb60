/** SEND through the local stack: who may send, to which devices, stamped once, on the stream before the ACK. */
import { randomUUID } from 'node:crypto';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { directConversationId } from '../../lambdas/send/conversations';
import {
  call,
  connectDevice,
  forgetCodeRequests,
  linkDevice,
  linkDeviceWithoutKeys,
  registerAccount,
  registerAccountWithoutKeys,
  uploadFirstKeys,
  type DeviceSocket,
  type TestDevice,
} from '../support/device-client';
import { DeviceKeyMaterial } from '../support/signal-keys';
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

const envelope = (device: Pick<TestDevice, 'userId' | 'deviceId' | 'registrationId'>, ciphertext = 'c2VjcmV0') => ({
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

describe('SEND to devices without keys, and to devices registered anew', () => {
  /** A SEND from Alice's phone to `to`'s user with these envelopes and one for Alice's tablet. */
  const sendTo = (to: TestDevice, envelopes: ReturnType<typeof envelope>[]) =>
    sendFrame({ to: to.userId, conversationId: directConversationId(alice[0]!.userId, to.userId), envelopes: [...envelopes, envelope(alice[1]!)] });
  const devicesOf = async (device: TestDevice) => (await call(parley, 'GET', '/v1/devices', { device })).body.devices;

  it('leaves a linked device out of SENDs to its user until it has uploaded keys', async () => {
    const carol = await registerAccount(parley, '+14155550204');
    const tablet = await linkDeviceWithoutKeys(parley, carol, 'Tablet without keys');
    expect(await devicesOf(carol)).toMatchObject([{ deviceId: 1, hasKeys: true }, { deviceId: tablet.deviceId, hasKeys: false }]);
    expect(await send(sendTo(carol, [envelope(carol)]))).toMatchObject({ type: 'ACK' });
    const toKeyless = sendTo(carol, [envelope(carol), envelope({ ...tablet, registrationId: 1 })]);
    expect(await send(toKeyless)).toMatchObject({
      code: 'MISMATCHED_DEVICES',
      missingDevices: [],
      extraDevices: [{ userId: tablet.userId, deviceId: tablet.deviceId }],
    });
    expect(await recordsOf(toKeyless.msgId)).toHaveLength(0);

    const tabletWithKeys = await uploadFirstKeys(parley, tablet);
    expect(await devicesOf(carol)).toMatchObject([{ hasKeys: true }, { hasKeys: true }]);
    expect(await send(sendTo(carol, [envelope(carol)]))).toMatchObject({
      code: 'MISMATCHED_DEVICES',
      missingDevices: [{ userId: tablet.userId, deviceId: tablet.deviceId }],
    });
    expect(await send(sendTo(carol, [envelope(carol), envelope(tabletWithKeys)]))).toMatchObject({ type: 'ACK' });
  });

  it('refuses a SEND whose envelope names another registration id than its device has, naming the device, delivering nothing', async () => {
    const stale = { ...bob[1]!, registrationId: (bob[1]!.registrationId % 16380) + 1 };
    const frame = sendFrame({ envelopes: [envelope(bob[0]!), envelope(stale), envelope(bob[2]!), envelope(alice[1]!)] });
    expect(await send(frame)).toMatchObject({
      type: 'ERROR',
      code: 'STALE_DEVICES',
      staleDevices: [{ userId: bob[1]!.userId, deviceId: bob[1]!.deviceId }],
    });
    expect(await recordsOf(frame.msgId)).toHaveLength(0);
  });

  it('answers STALE_DEVICES to envelopes for the earlier phone of a number registered again', async () => {
    const phoneNumber = '+14155550205';
    const oldPhone = await registerAccount(parley, phoneNumber);
    await forgetCodeRequests(parley, phoneNumber);
    const newPhone = await registerAccountWithoutKeys(parley, phoneNumber);
    expect(newPhone).toMatchObject({ userId: oldPhone.userId, deviceId: 1 });
    // Until the new phone has uploaded keys, the account has no device to write to.
    expect(await send(sendTo(oldPhone, [envelope(oldPhone)]))).toMatchObject({ code: 'NOT_FOUND' });

    let keys = new DeviceKeyMaterial();
    while (keys.registrationId === oldPhone.registrationId) keys = new DeviceKeyMaterial();
    const newPhoneWithKeys = await uploadFirstKeys(parley, newPhone, keys);
    const toOldPhone = sendTo(oldPhone, [envelope(oldPhone)]);
    expect(await send(toOldPhone)).toMatchObject({ code: 'STALE_DEVICES', staleDevices: [{ userId: oldPhone.userId, deviceId: 1 }] });
    expect(await recordsOf(toOldPhone.msgId)).toHaveLength(0);
    expect(await send(sendTo(oldPhone, [envelope(newPhoneWithKeys)]))).toMatchObject({ type: 'ACK' });
  });
});
