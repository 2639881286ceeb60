/**
 * With a data directory, the local stack keeps where the fanout got to on each shard, as Lambda's event
 * source mapping does: after a restart it handles what was put on the stream while it was down or before
 * it was handled, and nothing it had handled already.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import { createClients } from '../../lambdas/runtime/clients';
import type { MessageRecord } from '../../lambdas/protocol/stream-records';
import { startAwsEmulators } from '../../local/aws-emulators';
import { localResourceName } from '../../local/provision';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { queuedItems, streamedMsgIds } from '../support/device-queue';
import { connectDevice, registerAccount, type TestDevice } from '../support/device-client';
import { directMessage } from '../support/direct-message';

let dataDir: string;
/** Records the fanout handled, by msgId, in the current run. */
let handled = new Map<string, number>();
/** msgIds whose fanout does not finish before the stack stops. */
const held = new Set<string>();
let releaseHeld: () => void = () => undefined;
let sawHeld: () => void = () => undefined;

const msgIdsOf = streamedMsgIds;

const start = () =>
  startParleyLocal({
    dataDir,
    webSocketPort: 0,
    httpPort: 0,
    intercept: (id, invoke) =>
      id !== 'fanout'
        ? invoke
        : async (event: any) => {
            const msgIds = msgIdsOf(event);
            if (msgIds.some((msgId) => held.has(msgId))) {
              sawHeld();
              await new Promise<void>((resolve) => (releaseHeld = resolve));
              throw new Error('the stack stopped before this batch was handled');
            }
            const answer = await invoke(event);
            for (const msgId of msgIds) handled.set(msgId, (handled.get(msgId) ?? 0) + 1);
            return answer;
          },
  });

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'parley-restart-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const queuedIds = async (parley: ParleyLocal, device: TestDevice) => (await queuedItems(parley, device)).map((item) => (item.frame as { msgId: string }).msgId);

it('handles after a restart what was not handled before it, and nothing twice', async () => {
  const first = await start();
  const alice = await registerAccount(first, '+14155550951');
  const bob = await registerAccount(first, '+14155550952');
  const sender = await connectDevice(first, alice);
  const handledBefore = directMessage(alice, bob, 1);
  sender.send(handledBefore);
  await sender.next((f) => f.requestId === handledBefore.requestId);
  await first.drainStreams();
  expect(handled.get(handledBefore.msgId)).toBe(1);

  // On the stream (the sender has its ACK) but not yet delivered when the stack stops.
  const unhandled = directMessage(alice, bob, 2);
  held.add(unhandled.msgId);
  const seen = new Promise<void>((resolve) => (sawHeld = resolve));
  sender.send(unhandled);
  expect(await sender.next((f) => f.requestId === unhandled.requestId)).toMatchObject({ type: 'ACK' });
  await seen;
  await sender.close();
  const stopping = first.stop();
  releaseHeld();
  await stopping;
  held.clear();

  // Put on the stream while the stack is down.
  const emulators = await startAwsEmulators({ dataDir, log: () => undefined });
  const clients = createClients({ region: 'us-east-1', endpoints: emulators.endpoints, credentials: emulators.credentials });
  const putWhileDown: MessageRecord = {
    kind: 'message',
    msgId: randomUUID(),
    conversationId: unhandled.conversationId,
    from: { userId: alice.userId, deviceId: alice.deviceId },
    to: bob.userId,
    seq: 3,
    serverTs: Date.now(),
    envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, registrationId: bob.registrationId, type: 'message', ciphertext: Buffer.from('message 3').toString('base64') }],
  };
  await clients.kinesis.send(
    new PutRecordCommand({
      StreamName: localResourceName('messages', 'stream'),
      PartitionKey: putWhileDown.conversationId,
      Data: Buffer.from(JSON.stringify(putWhileDown)),
    }),
  );
  await emulators.stop();

  handled = new Map();
  const second = await start();
  try {
    await second.drainStreams();
    expect(Object.fromEntries(handled)).toEqual({ [unhandled.msgId]: 1, [putWhileDown.msgId]: 1 });
    expect((await queuedIds(second, bob)).sort()).toEqual([handledBefore.msgId, unhandled.msgId, putWhileDown.msgId].sort());
  } finally {
    await second.stop();
  }
});
