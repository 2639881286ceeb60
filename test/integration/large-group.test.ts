/**
 * A group of 1,024 members on the local stack: most of them are offline devices written straight into
 * the devices table (a registration per member would only slow the test), a few are real connected
 * devices. Every member device must have the message exactly once.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ScanCommand, type ScanCommandOutput } from '@aws-sdk/lib-dynamodb';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import type { DeviceCredentials } from '../../lambdas/protocol/credentials';
import { MAX_GROUP_MEMBERS } from '../../lambdas/protocol/groups-api';
import { call, connectDevice, registerAccount } from '../support/device-client';
import { addSimulatedUsers, type SimulatedUser } from '../support/simulated-users';

let parley: ParleyLocal;
let alice: DeviceCredentials;
let online: DeviceCredentials[];
let simulated: SimulatedUser[];

beforeAll(async () => {
  parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0 });
  [alice, ...online] = await Promise.all(['+14155558001', '+14155558002', '+14155558003', '+14155558004'].map((n) => registerAccount(parley, n)));
  simulated = await addSimulatedUsers(parley, MAX_GROUP_MEMBERS - 4);
}, 60_000);
afterAll(async () => {
  await parley?.stop();
});

async function queuedCopies(msgId: string): Promise<Map<string, number>> {
  const copies = new Map<string, number>();
  let start: Record<string, unknown> | undefined;
  do {
    const page: ScanCommandOutput = await parley.clients.db.send(
      new ScanCommand({
        TableName: parley.resources.tables.deviceQueues,
        // Items hold no msgId of their own (they stay out of the byMessage index): the frame's is the one.
        FilterExpression: 'frame.msgId = :m',
        ExpressionAttributeValues: { ':m': msgId },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) copies.set(item.device as string, (copies.get(item.device as string) ?? 0) + 1);
    start = page.LastEvaluatedKey;
  } while (start);
  return copies;
}

it('delivers a message to every device of 1,024 members exactly once, and refuses the 1,025th member', async () => {
  const groupId = randomUUID();
  const members = [...online.map((d) => d.userId), ...simulated.map((s) => s.userId)];
  const created = await call(parley, 'POST', '/v1/groups', { device: alice, body: { groupId, name: 'Everyone', members } });
  expect(created.status).toBe(201);
  expect(created.body.members).toHaveLength(MAX_GROUP_MEMBERS);
  const [{ userId: extra }] = await addSimulatedUsers(parley, 1);
  const full = await call(parley, 'POST', `/v1/groups/${groupId}/members`, { device: alice, body: { add: [extra] } });
  expect(full).toMatchObject({ status: 409, body: { error: { code: 'GROUP_FULL' } } });
  await parley.drainStreams();

  const [sender, ...receivers] = await Promise.all([alice, ...online].map((device) => connectDevice(parley, device)));
  const frame = { action: 'GROUP_SEND', requestId: 'g1', msgId: randomUUID(), conversationId: `group:${groupId}`, seq: 1, groupVersion: 1, ciphertext: 'U2VuZGVyS2V5' };
  const start = performance.now();
  sender!.send(frame);
  expect(await sender!.next((f) => f.requestId === 'g1')).toMatchObject({ type: 'ACK' });
  await Promise.all(receivers.map((socket) => socket.next((f) => f.type === 'PUSH' && f.msgId === frame.msgId, 20_000)));
  const lastOnlineMs = performance.now() - start;
  await parley.drainStreams();

  const copies = await queuedCopies(frame.msgId);
  const expected = simulated.reduce((sum, s) => sum + s.devices, 0) + online.length;
  expect(copies.size).toBe(expected);
  expect([...copies.values()].every((n) => n === 1)).toBe(true);
  expect(copies.has(`${alice.userId}#${alice.deviceId}`)).toBe(false);
  expect(copies.has(`${extra}#1`)).toBe(false);
  console.log(`1,024-member group: last online member had the message after ${Math.round(lastOnlineMs)} ms; ${copies.size} device queues`);
  await Promise.all([sender!, ...receivers].map((socket) => socket.close()));
}, 120_000);
