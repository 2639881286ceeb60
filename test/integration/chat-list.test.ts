/**
 * The chat list through the local stack: each user's own devices write the encrypted previews of its
 * conversations (the sender with SEND, a recipient device with DELIVERED), and a newly linked device
 * lists them with the unread counts. The server stores the ciphertext and never reads it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { directConversationId } from '../../lambdas/send/conversations';
import { positionOf } from '../../lambdas/tables/device-queues';
import { call, connectDevice, linkDevice, registerAccount, request, type DeviceSocket, type TestDevice } from '../support/device-client';
import { syncQueue } from '../support/sync-queue';
import { readMessageStream } from '../support/message-stream';

let parley: ParleyLocal;
let alice: TestDevice;
let bob: TestDevice[];
let aliceSocket: DeviceSocket;
let bobPhone: DeviceSocket;

beforeAll(async () => {
  parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0 });
  alice = await registerAccount(parley, '+14155550701');
  const phone = await registerAccount(parley, '+14155550702');
  bob = [phone, await linkDevice(parley, phone, 'Laptop')];
  [aliceSocket, bobPhone] = await Promise.all([connectDevice(parley, alice), connectDevice(parley, bob[0]!)]);
});
afterAll(async () => {
  await Promise.all([aliceSocket?.close(), bobPhone?.close()]);
  await parley?.stop();
});

const conversationId = () => directConversationId(alice.userId, bob[0]!.userId);
/** A stand-in for a preview sealed under the user's chat-list key: opaque bytes to the server. */
const sealed = (bytes = 48) => randomBytes(bytes).toString('base64');

/** Alice → Bob, with Alice's preview; answers the frame and the server's answer. */
async function aliceSends(preview: string | undefined = sealed(), msgId = randomUUID()) {
  const frame = {
    action: 'SEND',
    msgId,
    conversationId: conversationId(),
    to: bob[0]!.userId,
    seq: 1,
    envelopes: bob.map(({ userId, deviceId, registrationId }) => ({ userId, deviceId, registrationId, type: 'message', ciphertext: 'c2VjcmV0' })),
    ...(preview === undefined ? {} : { preview }),
  };
  return { frame, answer: await request(aliceSocket, frame) };
}

/** The cursor of a sent message in its recipients' queues: its serverTs and msgId. */
const cursorOf = (sent: { frame: { msgId: string }; answer: { serverTs: number } }) => positionOf(sent.answer.serverTs, sent.frame.msgId);

async function chatList(device: TestDevice) {
  const { status, body } = await call(parley, 'GET', '/v1/conversations', { device });
  expect(status).toBe(200);
  return body.conversations.find((conversation: any) => conversation.conversationId === conversationId());
}

describe('chat list previews', () => {
  it('lists, on a newly linked device, the preview its user’s device wrote, with the unread count', async () => {
    const alicePreview = sealed();
    const sent = await aliceSends(alicePreview);
    const { frame, answer } = sent;
    expect(answer.type).toBe('ACK');
    await parley.drainStreams();
    const bobPreview = sealed();
    expect(await request(bobPhone, { action: 'DELIVERED', cursors: [cursorOf(sent)], previews: [{ msgId: frame.msgId, ciphertext: bobPreview }] })).toEqual({
      type: 'DELIVERED_ACK',
      cursors: [cursorOf(sent)],
      requestId: expect.any(String),
    });

    const bobTablet = await linkDevice(parley, bob[0]!, 'Tablet');
    bob.push(bobTablet);
    expect(await chatList(bobTablet)).toEqual({
      conversationId: frame.conversationId,
      lastActivityAt: answer.serverTs,
      lastMsgId: frame.msgId,
      unreadCount: 1,
      preview: { msgId: frame.msgId, ciphertext: bobPreview },
    });
    // Each user's own devices write that user's previews: Alice's row has Alice's.
    expect((await chatList(alice)).preview).toEqual({ msgId: frame.msgId, ciphertext: alicePreview });
  });

  it('never replaces a preview with one of an older message, nor with a replayed one', async () => {
    const older = await aliceSends();
    const newer = await aliceSends();
    await parley.drainStreams();
    const newest = sealed();
    const laptop = await connectDevice(parley, bob[1]!);
    await syncQueue(laptop);
    // Bob's laptop acknowledges the newer message first, then his phone the older one, late.
    await request(laptop, { action: 'DELIVERED', cursors: [cursorOf(newer)], previews: [{ msgId: newer.frame.msgId, ciphertext: newest }] });
    await request(bobPhone, { action: 'DELIVERED', cursors: [cursorOf(older)], previews: [{ msgId: older.frame.msgId, ciphertext: sealed() }] });
    // The phone's preview of the newer message comes second: the first preview of a message stands.
    await request(bobPhone, { action: 'DELIVERED', cursors: [cursorOf(newer)], previews: [{ msgId: newer.frame.msgId, ciphertext: sealed() }] });
    expect((await chatList(bob[0]!)).preview).toEqual({ msgId: newer.frame.msgId, ciphertext: newest });

    // Alice's retried SEND of the older message carries its preview again; the newer one stays.
    const alicesNewest = (await chatList(alice)).preview;
    expect(alicesNewest.msgId).toBe(newer.frame.msgId);
    expect((await aliceSends(older.frame.preview, older.frame.msgId)).answer).toMatchObject({ type: 'ACK', serverTs: older.answer.serverTs });
    await parley.drainStreams();
    expect((await chatList(alice)).preview).toEqual(alicesNewest);
    await laptop.close();
  });

  it('refuses a preview over 1,024 bytes with an error frame, storing nothing, and takes one of exactly 1,024', async () => {
    const before = await chatList(alice);
    const tooLarge = await aliceSends(sealed(1025));
    expect(tooLarge.answer).toMatchObject({ type: 'ERROR', code: 'BAD_REQUEST', message: expect.stringContaining('preview') });
    expect((await readMessageStream(parley)).filter((record) => record.data.msgId === tooLarge.frame.msgId)).toHaveLength(0);
    await parley.drainStreams();
    expect(await chatList(alice)).toEqual(before);

    const atLimit = await aliceSends(sealed(1024));
    expect(atLimit.answer.type).toBe('ACK');
    await parley.drainStreams();
    expect((await chatList(alice)).preview).toEqual({ msgId: atLimit.frame.msgId, ciphertext: atLimit.frame.preview });

    // DELIVERED with a preview one byte too large is refused whole: the message stays queued, nothing is stored.
    const refused = await request(bobPhone, { action: 'DELIVERED', cursors: [cursorOf(atLimit)], previews: [{ msgId: atLimit.frame.msgId, ciphertext: sealed(1025) }] });
    expect(refused).toMatchObject({ type: 'ERROR', code: 'BAD_REQUEST', message: expect.stringContaining('previews') });
    const exact = sealed(1024);
    expect(await request(bobPhone, { action: 'DELIVERED', cursors: [cursorOf(atLimit)], previews: [{ msgId: atLimit.frame.msgId, ciphertext: exact }] })).toMatchObject({
      type: 'DELIVERED_ACK',
    });
    expect((await chatList(bob[0]!)).preview).toEqual({ msgId: atLimit.frame.msgId, ciphertext: exact });
  });

  it('ignores, and names, a preview for a message that is not in the device’s queue', async () => {
    const before = await chatList(bob[0]!);
    const stranger = randomUUID();
    const strangerCursor = positionOf(Date.now(), stranger);
    expect(await request(bobPhone, { action: 'DELIVERED', cursors: [strangerCursor], previews: [{ msgId: stranger, ciphertext: sealed() }] })).toMatchObject({
      type: 'DELIVERED_ACK',
      cursors: [strangerCursor],
      ignoredPreviews: [stranger],
    });
    // Acknowledged before: the message has left the queue, so its conversation is not known any more.
    const sent = await aliceSends();
    const { frame } = sent;
    await parley.drainStreams();
    await request(bobPhone, { action: 'DELIVERED', cursors: [cursorOf(sent)] });
    const again = await request(bobPhone, { action: 'DELIVERED', cursors: [cursorOf(sent)], previews: [{ msgId: frame.msgId, ciphertext: sealed() }] });
    expect(again).toMatchObject({ ignoredPreviews: [frame.msgId] });
    expect((await chatList(bob[0]!)).preview).toEqual(before.preview);
  });
});
