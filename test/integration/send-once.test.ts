/**
 * A message is delivered once however late its sender retries it, and its msgId is its sender's alone:
 * retries after the recipient read it, a first attempt that died between its stamp and its put, and a
 * msgId another device or conversation already used.
 */
import { randomUUID } from 'node:crypto';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import type { SendFrame } from '../../lambdas/protocol/frames';
import { acceptMessage } from '../../lambdas/send/accept-message';
import { directConversationId, groupConversationId } from '../../lambdas/send/conversations';
import { getRoute } from '../../lambdas/tables/routing-table';
import { call, connectDevice, linkDevice, registerAccount, request, type DeviceSocket, type TestDevice } from '../support/device-client';
import { readMessageStream } from '../support/message-stream';
import { syncQueue } from '../support/sync-queue';

let parley: ParleyLocal;
let alice: TestDevice;
let bob: TestDevice[];
let mallory: TestDevice;
let aliceSocket: DeviceSocket;
let bobSockets: DeviceSocket[];

beforeAll(async () => {
  parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0 });
  [alice, mallory] = await Promise.all([registerAccount(parley, '+14155550901'), registerAccount(parley, '+14155550903')]);
  const bobPhone = await registerAccount(parley, '+14155550902');
  bob = [bobPhone, await linkDevice(parley, bobPhone, 'Laptop')];
  aliceSocket = await connectDevice(parley, alice);
  bobSockets = await Promise.all(bob.map((device) => connectDevice(parley, device)));
});
afterAll(async () => {
  await Promise.all([aliceSocket, ...(bobSockets ?? [])].map((socket) => socket?.close()));
  await parley?.stop();
});

const toBob = (from: TestDevice, msgId = randomUUID()) => ({
  action: 'SEND',
  msgId,
  conversationId: directConversationId(from.userId, bob[0]!.userId),
  to: bob[0]!.userId,
  seq: 1,
  envelopes: bob.map(({ userId, deviceId, registrationId }) => ({ userId, deviceId, registrationId, type: 'message', ciphertext: 'c2VjcmV0' })),
});

const streamedRecordsOf = async (msgId: string) => (await readMessageStream(parley)).filter((record) => record.data.msgId === msgId);

/** What each of Bob's devices has queued of this message, after the stream has been drained. */
async function queuedForBob(msgId: string): Promise<number> {
  await parley.drainStreams();
  let queued = 0;
  for (const device of bob) {
    const socket = await connectDevice(parley, device);
    queued += (await syncQueue(socket)).filter((frame) => frame.msgId === msgId).length;
    await socket.close();
  }
  // A second connection of a device closes the first: Bob's live sockets are open again for the next test.
  bobSockets = await Promise.all(bob.map((device) => connectDevice(parley, device)));
  return queued;
}

async function unreadOf(device: TestDevice, conversationId: string): Promise<number> {
  const { body } = await call(parley, 'GET', '/v1/conversations', { device });
  return body.conversations.find((conversation: any) => conversation.conversationId === conversationId).unreadCount;
}

/** Each of Bob's devices gets the message live and acknowledges it; Bob reads it. */
async function bobReceivesAndReads(msgId: string, conversationId: string) {
  for (const socket of bobSockets) {
    const push = await socket.next((frame) => frame.type === 'PUSH' && frame.msgId === msgId);
    // A group message is acknowledged by its group's cursor, any other by its queue cursor.
    const acknowledged = push.envelope.type === 'senderKey' ? { groups: [{ conversationId, cursor: push.cursor }] } : { cursors: [push.cursor] };
    expect(await request(socket, { action: 'DELIVERED', ...acknowledged })).toMatchObject({ type: 'DELIVERED_ACK' });
  }
  expect(await request(bobSockets[0]!, { action: 'READ', conversationId, upToMsgId: msgId })).toMatchObject({ type: 'READ_ACK' });
  await parley.drainStreams();
  expect(await unreadOf(bob[0]!, conversationId)).toBe(0);
}

async function expectNoPushOf(msgId: string) {
  await parley.drainStreams();
  for (const socket of bobSockets) await expect(socket.next((frame) => frame.type === 'PUSH' && frame.msgId === msgId, 300)).rejects.toThrow();
}

describe('a retried SEND', () => {
  it('after the recipient acknowledged and read it, gets the same ACK and is neither pushed, queued nor counted unread again', async () => {
    const frame = toBob(alice);
    const ack = await request(aliceSocket, frame);
    expect(ack.type).toBe('ACK');
    await bobReceivesAndReads(frame.msgId, frame.conversationId);

    const retried = await request(aliceSocket, frame);
    expect(retried).toEqual({ ...ack, requestId: retried.requestId });
    await expectNoPushOf(frame.msgId);
    expect(await streamedRecordsOf(frame.msgId)).toHaveLength(1);
    expect(await queuedForBob(frame.msgId)).toBe(0);
    expect(await unreadOf(bob[0]!, frame.conversationId)).toBe(0);
  });

  it('after a first attempt that died between its stamp and its put, is delivered', async () => {
    const frame = toBob(alice);
    const deps = { env: parley.environments.send, now: Date.now };
    const deadStream = { send: () => Promise.reject(new Error('the invocation died before its put')) } as unknown as KinesisClient;
    // The SEND comes on Alice's current connection, the one her route names.
    const { connectionId } = (await getRoute({ ...deps, clients: parley.clients }, alice.userId, alice.deviceId))!;
    await expect(acceptMessage({ ...deps, clients: { ...parley.clients, kinesis: deadStream } }, alice, frame as SendFrame, connectionId)).rejects.toThrow('died');
    expect(await streamedRecordsOf(frame.msgId)).toHaveLength(0);

    const ack = await request(aliceSocket, frame);
    expect(ack.type).toBe('ACK');
    for (const socket of bobSockets) await socket.next((pushed) => pushed.type === 'PUSH' && pushed.msgId === frame.msgId);
    expect(await streamedRecordsOf(frame.msgId)).toHaveLength(1);
  });
});

describe('a retried GROUP_SEND', () => {
  it('after the members acknowledged and read it, gets the same ACK and is neither pushed, queued nor counted unread again', async () => {
    const groupId = randomUUID();
    const created = await call(parley, 'POST', '/v1/groups', { device: alice, body: { groupId, name: 'Retries', members: [bob[0]!.userId] } });
    expect(created.status).toBe(201);
    const conversationId = groupConversationId(groupId);
    const frame = { action: 'GROUP_SEND', msgId: randomUUID(), conversationId, seq: 1, groupVersion: 1, ciphertext: 'AAAA' };
    const ack = await request(aliceSocket, frame);
    expect(ack.type).toBe('ACK');
    await bobReceivesAndReads(frame.msgId, conversationId);

    const retried = await request(aliceSocket, frame);
    expect(retried).toEqual({ ...ack, requestId: retried.requestId });
    await expectNoPushOf(frame.msgId);
    expect(await streamedRecordsOf(frame.msgId)).toHaveLength(1);
    expect(await queuedForBob(frame.msgId)).toBe(0);
    expect(await unreadOf(bob[0]!, conversationId)).toBe(0);
  });
});

describe('a msgId', () => {
  it('is refused with MSG_ID_TAKEN when another user sends it; the first sender’s message alone is delivered', async () => {
    const msgId = randomUUID();
    const alices = toBob(alice, msgId);
    expect(await request(aliceSocket, alices)).toMatchObject({ type: 'ACK' });
    const socket = await connectDevice(parley, mallory);
    expect(await request(socket, toBob(mallory, msgId))).toMatchObject({ type: 'ERROR', code: 'MSG_ID_TAKEN', action: 'SEND' });
    const groupId = randomUUID();
    await call(parley, 'POST', '/v1/groups', { device: mallory, body: { groupId, name: 'Mallory', members: [bob[0]!.userId] } });
    const groupSend = { action: 'GROUP_SEND', msgId, conversationId: groupConversationId(groupId), seq: 1, groupVersion: 1, ciphertext: 'AAAA' };
    expect(await request(socket, groupSend)).toMatchObject({ type: 'ERROR', code: 'MSG_ID_TAKEN', action: 'GROUP_SEND' });
    await socket.close();

    const streamed = await streamedRecordsOf(msgId);
    expect(streamed.map((record) => record.data.from.userId)).toEqual([alice.userId]);
    for (const bobSocket of bobSockets) {
      expect(await bobSocket.next((frame) => frame.type === 'PUSH' && frame.msgId === msgId)).toMatchObject({ from: { userId: alice.userId } });
    }
    await expectNoPushOf(msgId);
  });

  it('is refused with MSG_ID_TAKEN when its sender uses it again in another conversation', async () => {
    const first = toBob(alice);
    expect(await request(aliceSocket, first)).toMatchObject({ type: 'ACK' });
    const elsewhere = {
      ...first,
      conversationId: directConversationId(alice.userId, mallory.userId),
      to: mallory.userId,
      envelopes: [{ userId: mallory.userId, deviceId: mallory.deviceId, registrationId: mallory.registrationId, type: 'message', ciphertext: 'c2VjcmV0' }],
    };
    expect(await request(aliceSocket, elsewhere)).toMatchObject({ type: 'ERROR', code: 'MSG_ID_TAKEN' });
    expect((await streamedRecordsOf(first.msgId)).map((record) => record.data.conversationId)).toEqual([first.conversationId]);
  });
});
