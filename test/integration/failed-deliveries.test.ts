/**
 * A record the fanout gives up on is not lost: its whole batch is kept in the failedDeliveries bucket
 * (not only a pointer into the stream, which forgets it after 24 hours); redrive puts it back through the
 * fanout, idempotently; one too old to deliver is answered to its sender with a `failed` receipt.
 */
import { randomUUID } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { runRedrive } from '../../bin/redrive';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { functions, type FunctionDefinition } from '../../lambdas/functions';
import { directConversationId, groupConversationId } from '../../lambdas/send/conversations';
import { queuedItems, streamedMsgIds } from '../support/device-queue';
import { call, connectDevice, linkDevice, registerAccount, type DeviceSocket, type TestDevice } from '../support/device-client';
import { syncQueue } from '../support/sync-queue';
import { readStream } from '../support/message-stream';

const DAY = 24 * 60 * 60 * 1000;
let clockOffset = 0;
let parley: ParleyLocal;
let alice: TestDevice;
let bob: TestDevice[];
/** msgIds the fanout fails on, every time, as a bug or a poison record would make it. */
const poisoned = new Set<string>();
/** msgIds the fanout fails on after it has written their copies (a crash halfway). */
const failingAfterWriting = new Set<string>();

beforeAll(async () => {
  parley = await startParleyLocal({
    webSocketPort: 0,
    httpPort: 0,
    now: () => Date.now() + clockOffset,
    // No expiry sweep during the test: the clock jumps 31 days at the end.
    ttlSweepIntervalMs: 3_600_000,
    // Both fanouts: the 1:1 conversations' (`fanout`) and the groups' (`groupFanout`), one code on two streams.
    intercept: (id, invoke) =>
      !(functions[id] as FunctionDefinition).consumes
        ? invoke
        : async (event: any) => {
            if (streamedMsgIds(event).some((msgId) => poisoned.has(msgId))) throw new Error('the fanout failed on this batch');
            const answer = await invoke(event);
            if (streamedMsgIds(event).some((msgId) => failingAfterWriting.has(msgId))) throw new Error('the fanout failed after writing');
            return answer;
          },
  });
  alice = await registerAccount(parley, '+14155550901');
  const bobPhone = await registerAccount(parley, '+14155550902');
  bob = [bobPhone, await linkDevice(parley, bobPhone, 'Laptop')];
});
afterAll(async () => {
  await parley?.stop();
});

function message(seq: number) {
  return {
    action: 'SEND',
    requestId: randomUUID(),
    msgId: randomUUID(),
    conversationId: directConversationId(alice.userId, bob[0]!.userId),
    to: bob[0]!.userId,
    seq,
    envelopes: bob.map((device) => ({
      userId: device.userId,
      deviceId: device.deviceId,
      registrationId: device.registrationId,
      type: 'message',
      ciphertext: Buffer.from(`message ${seq} for ${device.deviceId}`).toString('base64'),
    })),
  };
}

async function send(socket: DeviceSocket, frame: ReturnType<typeof message>) {
  socket.send(frame);
  expect(await socket.next((f) => f.requestId === frame.requestId)).toMatchObject({ type: 'ACK' });
}

const queuedIds = async (device: TestDevice) => (await queuedItems(parley, device)).map((item) => (item.frame as { msgId: string }).msgId);

const failedObjects = async () => {
  const { Contents = [] } = await parley.clients.s3.send(new ListObjectsV2Command({ Bucket: parley.resources.buckets.failedDeliveries }));
  return Contents.map((object) => object.Key!);
};
const readObject = async (key: string) => {
  const { Body } = await parley.clients.s3.send(new GetObjectCommand({ Bucket: parley.resources.buckets.failedDeliveries, Key: key }));
  return Body!.transformToString('utf8');
};

it('keeps a record the fanout gave up on, whole, and redrive delivers it once to each device', async () => {
  const sender = await connectDevice(parley, alice);
  const bobPhone = await connectDevice(parley, bob[0]!);
  const failing = message(1);
  const others = [message(2), message(3)];
  poisoned.add(failing.msgId);
  for (const frame of [failing, ...others]) await send(sender, frame);
  await parley.drainStreams();

  // The others arrive; the failing one reaches no device, but is kept with its payload.
  for (const device of bob) {
    const queued = await queuedIds(device);
    expect(queued).toEqual(expect.arrayContaining(others.map((f) => f.msgId)));
    expect(queued).not.toContain(failing.msgId);
  }
  expect(parley.failedBatches.flatMap((batch) => streamedMsgIds({ Records: batch.records }))).toEqual([failing.msgId]);
  const [key, ...more] = await failedObjects();
  expect(more).toEqual([]);
  const stored = JSON.parse(await readObject(key!));
  expect(stored.KinesisBatchInfo).toMatchObject({ batchSize: 1, shardId: expect.stringMatching(/^shardId-/) });
  const [kept] = JSON.parse(stored.payload).Records;
  expect(kept.kinesis.partitionKey).toBe(failing.conversationId);
  expect(JSON.parse(Buffer.from(kept.kinesis.data, 'base64').toString('utf8'))).toMatchObject({
    kind: 'message',
    msgId: failing.msgId,
    envelopes: failing.envelopes.map(({ userId, deviceId, ciphertext }) => expect.objectContaining({ userId, deviceId, ciphertext })),
  });

  expect(await parley.redriveFailedRecords({ dryRun: true })).toEqual({ batches: 1, replayed: 1, failedReceipted: 0, expired: 0, revoked: 0, left: 0 });
  // The same through `npm run redrive -- --local URL --dry-run`.
  expect(await runRedrive({ target: { kind: 'local', url: parley.httpUrl }, request: { dryRun: true } }, () => undefined)).toMatchObject({
    replayed: 1,
  });
  expect(await failedObjects()).toEqual([key]);

  poisoned.clear();
  expect(await parley.redriveFailedRecords()).toEqual({ batches: 1, replayed: 1, failedReceipted: 0, expired: 0, revoked: 0, left: 0 });
  await parley.drainStreams();
  expect(await bobPhone.next((f) => f.type === 'PUSH' && f.msgId === failing.msgId)).toMatchObject({
    envelope: { ciphertext: failing.envelopes[0]!.ciphertext },
  });
  for (const device of bob) expect((await queuedIds(device)).filter((id) => id === failing.msgId)).toHaveLength(1);
  expect(await failedObjects()).toEqual([]);
  expect(await parley.redriveFailedRecords()).toEqual({ batches: 0, replayed: 0, failedReceipted: 0, expired: 0, revoked: 0, left: 0 });

  // A redrive that crashed after putting the record back but before deleting the object replays it again:
  // a live device is pushed it again (queue writes are plain batch puts, one request for all devices; the
  // client drops the repeat by msgId), and no queue holds it twice.
  await parley.clients.s3.send(
    new PutObjectCommand({ Bucket: parley.resources.buckets.failedDeliveries, Key: key!, Body: JSON.stringify(stored) }),
  );
  expect(await parley.redriveFailedRecords()).toMatchObject({ replayed: 1 });
  await parley.drainStreams();
  expect(await bobPhone.next((f) => f.type === 'PUSH' && f.msgId === failing.msgId)).toMatchObject({ msgId: failing.msgId });
  for (const device of bob) expect((await queuedIds(device)).filter((id) => id === failing.msgId)).toHaveLength(1);
  await Promise.all([sender.close(), bobPhone.close()]);
});

it('refuses a bad request to the local redrive route', async () => {
  const response = await fetch(`${parley.httpUrl}/local/redrive`, { method: 'POST', body: '{"dryRun":"yes"}' });
  expect(response.status).toBe(400);
  expect(((await response.json()) as { message: string }).message).toMatch(/^Bad redrive request: dryRun/);
});

it('leaves what is not a stream record in the bucket, and says so', async () => {
  const key = 'aws/lambda/local/shardId-000000000000/not-a-batch';
  await parley.clients.s3.send(new PutObjectCommand({ Bucket: parley.resources.buckets.failedDeliveries, Key: key, Body: '{"hello":1}' }));
  const lines: string[] = [];
  expect(await parley.redriveFailedRecords({ log: (line) => lines.push(line) })).toMatchObject({ batches: 1, replayed: 0, left: 1 });
  expect(lines.join('\n')).toContain(`${key}: not a failed Kinesis batch`);
  expect(await failedObjects()).toEqual([key]);
  // Left for a person; removed here so the next test starts with an empty bucket.
  await parley.clients.s3.send(new DeleteObjectCommand({ Bucket: parley.resources.buckets.failedDeliveries, Key: key }));
});

it('redrives a group record the group fanout gave up on back onto the groups’ stream, where its members get it', async () => {
  const groupId = randomUUID();
  await call(parley, 'POST', '/v1/groups', { device: alice, body: { groupId, name: 'Redriven', members: [bob[0]!.userId] } });
  const sender = await connectDevice(parley, alice);
  const frame = { action: 'GROUP_SEND', requestId: randomUUID(), msgId: randomUUID(), conversationId: groupConversationId(groupId), seq: 1, groupVersion: 1, ciphertext: Buffer.from('to the group').toString('base64') };
  poisoned.add(frame.msgId);
  sender.send(frame);
  expect(await sender.next((f) => f.requestId === frame.requestId)).toMatchObject({ type: 'ACK' });
  await parley.drainStreams();
  expect(await failedObjects()).toHaveLength(1);

  poisoned.clear();
  expect(await parley.redriveFailedRecords()).toEqual({ batches: 1, replayed: 1, failedReceipted: 0, expired: 0, revoked: 0, left: 0 });
  await parley.drainStreams();
  // Put back on its conversation's stream: the groups', twice now (sent, then redriven), never on the 1:1 stream.
  const putsOf = async (stream: string) => (await readStream(parley, stream)).filter((r) => r.data.msgId === frame.msgId).length;
  expect(await putsOf(parley.resources.streams.groupMessages)).toBe(2);
  expect(await putsOf(parley.resources.streams.messages)).toBe(0);
  const bobPhone = await connectDevice(parley, bob[0]!);
  expect((await syncQueue(bobPhone)).filter((f) => f.type === 'PUSH' && f.msgId === frame.msgId)).toEqual([
    expect.objectContaining({ conversationId: frame.conversationId, envelope: expect.objectContaining({ ciphertext: frame.ciphertext }) }),
  ]);
  expect(await failedObjects()).toEqual([]);
  await Promise.all([sender.close(), bobPhone.close()]);
});

it('answers a record older than a queue keeps messages (30 days) with a failed receipt to its sender instead', async () => {
  const sender = await connectDevice(parley, alice);
  const failing = message(4);
  poisoned.add(failing.msgId);
  await send(sender, failing);
  await parley.drainStreams();
  await sender.close();
  expect(await failedObjects()).toHaveLength(1);

  clockOffset = 31 * DAY;
  poisoned.clear();
  expect(await parley.redriveFailedRecords()).toEqual({ batches: 1, replayed: 0, failedReceipted: 1, expired: 0, revoked: 0, left: 0 });
  await parley.drainStreams();
  for (const device of bob) expect(await queuedIds(device)).not.toContain(failing.msgId);
  const back = await connectDevice(parley, alice);
  const failed = (await syncQueue(back)).filter((f) => f.type === 'RECEIPT' && f.msgIds.includes(failing.msgId));
  expect(failed.map((f) => [f.status, f.by.deviceId]).sort()).toEqual(bob.map((device) => ['failed', device.deviceId]).sort());
  expect(await failedObjects()).toEqual([]);
  await back.close();
});

it('drops a message its sender revoked while it waited for redrive, with the copies its failed fan-out had written', async () => {
  const sender = await connectDevice(parley, alice);
  const failing = message(5);
  failingAfterWriting.add(failing.msgId);
  await send(sender, failing);
  await parley.drainStreams();
  expect(await failedObjects()).toHaveLength(1);
  for (const device of bob) expect(await queuedIds(device)).toContain(failing.msgId);

  sender.send({ action: 'REVOKE', requestId: 'revoke-5', msgId: failing.msgId });
  expect(await sender.next((f) => f.requestId === 'revoke-5')).toMatchObject({ type: 'REVOKE_ACK', dropped: 2 });
  failingAfterWriting.clear();
  expect(await parley.redriveFailedRecords()).toEqual({ batches: 1, replayed: 0, failedReceipted: 0, expired: 0, revoked: 1, left: 0 });
  await parley.drainStreams();
  for (const device of bob) expect(await queuedIds(device)).not.toContain(failing.msgId);
  // Nor does its sender hear that it failed: it was deleted, not lost.
  const back = await connectDevice(parley, alice);
  expect((await syncQueue(back)).filter((f) => f.type === 'RECEIPT' && f.msgIds.includes(failing.msgId))).toEqual([]);
  expect(await failedObjects()).toEqual([]);
  await Promise.all([sender.close(), back.close()]);
});
