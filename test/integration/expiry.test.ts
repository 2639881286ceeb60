/** A message that waits 30 days undelivered is never served, and its sender learns it failed. */
import { randomUUID } from 'node:crypto';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { directConversationId } from '../../lambdas/send/conversations';
import { connectDevice, registerAccount, type TestDevice } from '../support/device-client';
import { syncQueue } from '../support/sync-queue';

const DAY = 24 * 60 * 60 * 1000;
let clock = Date.now();
let parley: ParleyLocal;
let alice: TestDevice;
let bob: TestDevice;

beforeAll(async () => {
  parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0, now: () => clock });
  alice = await registerAccount(parley, '+14155550501');
  bob = await registerAccount(parley, '+14155550502');
});
afterAll(async () => {
  await parley?.stop();
});

it('never serves an expired message and sends its sender a failed receipt', async () => {
  const sender = await connectDevice(parley, alice);
  const msgId = randomUUID();
  sender.send({
    action: 'SEND',
    requestId: 'r',
    msgId,
    conversationId: directConversationId(alice.userId, bob.userId),
    to: bob.userId,
    seq: 1,
    envelopes: [{ userId: bob.userId, deviceId: 1, registrationId: bob.registrationId, type: 'message', ciphertext: 'AAAA' }],
  });
  expect(await sender.next((f) => f.requestId === 'r')).toMatchObject({ type: 'ACK' });
  await parley.drainStreams();
  await sender.close();

  clock += 31 * DAY;
  // DynamoDB deletes expired items lazily: before the sweep the item is still stored, but not served.
  const early = await connectDevice(parley, bob);
  expect(await syncQueue(early)).toEqual([]);
  await early.close();

  await parley.sweepExpiredItems();
  await parley.drainStreams();
  const back = await connectDevice(parley, alice);
  const frames = await syncQueue(back);
  expect(frames).toEqual([
    expect.objectContaining({ type: 'RECEIPT', status: 'failed', msgIds: [msgId], by: { userId: bob.userId, deviceId: 1 } }),
  ]);
  await back.close();
});
