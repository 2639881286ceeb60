/**
 * Ordering is per conversation: 20 conversations, 220 interleaved messages, each conversation in order, and
 * each recipient's 110 over two SYNC pages. The local stack spends ~80 ms of one core per message, so the
 * count is what this file costs. (The bench's SYNC of 1,000 messages checks order at a larger
 * size, outside `npm test`.)
 */
import { randomUUID } from 'node:crypto';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { directConversationId } from '../../lambdas/send/conversations';
import { connectDevice, registerAccount, type TestDevice } from '../support/device-client';
import { syncQueue } from '../support/sync-queue';

let parley: ParleyLocal;
beforeAll(async () => {
  parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0 });
});
afterAll(async () => {
  await parley?.stop();
});

const SENDERS = 10;
const RECIPIENTS = 2;
const PER_CONVERSATION = 11;

it('delivers 220 messages of 20 interleaved conversations with each conversation in order', async () => {
  const register = (first: number, count: number) =>
    Promise.all(Array.from({ length: count }, (_, i) => registerAccount(parley, `+1415556${String(first + i).padStart(4, '0')}`)));
  const senders = await register(0, SENDERS);
  const recipients: TestDevice[] = await register(100, RECIPIENTS);
  const sockets = await Promise.all(senders.map((sender) => connectDevice(parley, sender)));

  // Every conversation sends one message at a time (after the ACK), all conversations at once.
  await Promise.all(
    senders.flatMap((sender, s) =>
      recipients.map(async (recipient) => {
        const conversationId = directConversationId(sender.userId, recipient.userId);
        for (let seq = 1; seq <= PER_CONVERSATION; seq++) {
          const frame = {
            action: 'SEND',
            requestId: randomUUID(),
            msgId: randomUUID(),
            conversationId,
            to: recipient.userId,
            seq,
            envelopes: [{ userId: recipient.userId, deviceId: 1, registrationId: recipient.registrationId, type: 'message', ciphertext: Buffer.from(`${s}:${seq}`).toString('base64') }],
          };
          sockets[s]!.send(frame);
          // Generous: every conversation's SEND waits behind the others' on one busy core.
          expect(await sockets[s]!.next((f) => f.requestId === frame.requestId, 60_000)).toMatchObject({ type: 'ACK' });
        }
      }),
    ),
  );
  await parley.drainStreams();

  for (const recipient of recipients) {
    const socket = await connectDevice(parley, recipient);
    const pushes = (await syncQueue(socket)).filter((frame) => frame.type === 'PUSH');
    expect(pushes).toHaveLength(SENDERS * PER_CONVERSATION);
    const byConversation = new Map<string, number[]>();
    for (const push of pushes) byConversation.set(push.conversationId, [...(byConversation.get(push.conversationId) ?? []), push.seq]);
    expect(byConversation.size).toBe(SENDERS);
    for (const seqs of byConversation.values()) expect(seqs).toEqual(Array.from({ length: PER_CONVERSATION }, (_, i) => i + 1));
    await socket.close();
  }
  await Promise.all(sockets.map((socket) => socket.close()));
}, 120_000);
