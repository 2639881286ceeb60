/**
 * Chat-list previews and the account's chat-list keys on one device: a preview opens only for the row and
 * message it was written for and under a key the device holds; keys are kept by keyId and never replaced;
 * a DELIVERED carries the newest preview of each conversation only, within the frame's limit.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ChatList } from '../../client/chat-list';
import { ChatListKeys } from '../../client/chat-list-keys';
import { DeliveryAcknowledger } from '../../client/delivery-acknowledger';
import { HttpClient } from '../../client/http-client';
import { MemoryStore } from '../../client/store/memory-store';
import type { MessagePreview } from '../../lambdas/protocol/frames';

const userId = randomUUID();
const conversationId = `direct:${userId}:${randomUUID()}`;

async function chatListWithKey() {
  const keys = new ChatListKeys(new MemoryStore());
  await keys.createFirst();
  return { keys, chats: new ChatList(keys, userId, new HttpClient('http://127.0.0.1:9')) };
}

describe('chat-list previews', () => {
  it('opens a preview only for the user, conversation and message it was sealed for', async () => {
    const { chats } = await chatListWithKey();
    const msgId = randomUUID();
    const ciphertext = (await chats.seal({ msgId, conversationId, from: userId, sentAt: 7, text: 'See you at 8' }))!;
    const bytes = Buffer.from(ciphertext, 'base64');
    expect([bytes[0], bytes[1]]).toEqual([1, 1]);
    expect((bytes.length - (2 + 12 + 16)) % 64).toBe(0);
    expect(await chats.open(conversationId, { msgId, ciphertext })).toEqual({ msgId, from: userId, sentAt: 7, text: 'See you at 8' });

    expect(await chats.open(`${conversationId}x`, { msgId, ciphertext })).toBeUndefined();
    expect(await chats.open(conversationId, { msgId: randomUUID(), ciphertext })).toBeUndefined();
    const other = new ChatList((await chatListWithKey()).keys, randomUUID(), new HttpClient('http://127.0.0.1:9'));
    expect(await other.open(conversationId, { msgId, ciphertext })).toBeUndefined();
    bytes[20]! ^= 1;
    expect(await chats.open(conversationId, { msgId, ciphertext: bytes.toString('base64') })).toBeUndefined();
  });

  it('writes nothing before the device holds a key, and reads a preview under the keyId it names', async () => {
    const keys = new ChatListKeys(new MemoryStore());
    const chats = new ChatList(keys, userId, new HttpClient('http://127.0.0.1:9'));
    expect(await chats.seal({ msgId: randomUUID(), conversationId, from: userId, sentAt: 1, text: 'hi' })).toBeUndefined();

    const writer = await chatListWithKey();
    const second = { keyId: 2, key: randomBytes(32) };
    await writer.keys.add([second]);
    const msgId = randomUUID();
    const ciphertext = (await writer.chats.seal({ msgId, conversationId, from: userId, sentAt: 1, data: new Uint8Array(3) }))!;
    expect(Buffer.from(ciphertext, 'base64')[1]).toBe(2);
    expect(await chats.open(conversationId, { msgId, ciphertext })).toBeUndefined();
    expect(await keys.add([{ keyId: 1, key: randomBytes(32) }, second])).toEqual([1, 2]);
    expect(await chats.open(conversationId, { msgId, ciphertext })).toEqual({ msgId, from: userId, sentAt: 1, data: true });
    // A key held is never replaced.
    expect(await keys.add([{ keyId: 2, key: randomBytes(32) }])).toEqual([]);
    expect(await chats.open(conversationId, { msgId, ciphertext })).toBeDefined();
  });

  it('cuts a long text until the preview fits 1,024 bytes', async () => {
    const { chats } = await chatListWithKey();
    const msgId = randomUUID();
    const ciphertext = (await chats.seal({ msgId, conversationId, from: userId, sentAt: 1, text: '\u0001'.repeat(500) }))!;
    expect(Buffer.from(ciphertext, 'base64').length).toBeLessThanOrEqual(1024);
    const text = (await chats.open(conversationId, { msgId, ciphertext }))!.text!;
    expect(text.length).toBeGreaterThan(100);
    expect(text.length).toBeLessThan(200);
  });
});

describe('DeliveryAcknowledger with previews', () => {
  it('sends the newest preview of each conversation with the batch, and no more than the frame takes', async () => {
    const frames: { msgIds: string[]; previews: MessagePreview[] }[] = [];
    const acknowledger = new DeliveryAcknowledger(async (msgIds, previews) => void frames.push({ msgIds, previews }), 5);
    const preview = (conversation: string, serverTs: number, chars = 8) => ({ conversationId: conversation, serverTs, ciphertext: 'A'.repeat(chars) });
    acknowledger.add('a1', preview('a', 1));
    acknowledger.add('a3', preview('a', 3));
    acknowledger.add('a2', preview('a', 2));
    acknowledger.add('b1', preview('b', 1));
    acknowledger.add('receipt');
    acknowledger.flush();
    expect(frames).toEqual([{ msgIds: ['a1', 'a3', 'a2', 'b1', 'receipt'], previews: [{ msgId: 'a3', ciphertext: 'AAAAAAAA' }, { msgId: 'b1', ciphertext: 'AAAAAAAA' }] }]);

    for (let i = 0; i < 100; i++) acknowledger.add(`m${i}`, preview(`c${i}`, i, 1368));
    expect(frames[1]!.previews.reduce((total, p) => total + p.ciphertext.length, 0)).toBeLessThanOrEqual(96 * 1024);
    expect(frames[1]!.previews[0]!.msgId).toBe('m99');
  });
});
