/**
 * A group of 1,024 members on the local stack: most of them are offline devices written straight into
 * the devices table (a registration per member would only slow the test), a few are real connected
 * devices. Every member device must have the message exactly once: the live ones pushed, the others at
 * SYNC, from the one copy in the group's timeline.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { GetCommand, PutCommand, ScanCommand, type ScanCommandOutput } from '@aws-sdk/lib-dynamodb';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import type { DeviceCredentials } from '../../lambdas/protocol/credentials';
import { MAX_GROUP_MEMBERS } from '../../lambdas/protocol/groups-api';
import { call, connectDevice, registerAccount } from '../support/device-client';
import { addSimulatedUsers, credentialsOf, type SimulatedUser } from '../support/simulated-users';
import { syncQueue } from '../support/sync-queue';

let parley: ParleyLocal;
/** Keys of the routing table read by BatchGetItem, by every client of the stack. */
let routeKeysRead = 0;
/** The devices table's reads: BatchGetItem calls and their keys, and queries. */
const deviceReads = { batches: 0, keys: 0, queries: 0 };
/** Writes of many members' device ids at once (a fan-out listing the entries that had none). */
let membersWrites = 0;
/** Counts the routing and device keys each BatchGetItem asks for, and device queries (the test's own view of what the fan-out reads). */
const countRouteReads = <T extends object>(client: T): T => {
  if (client.constructor.name !== 'DynamoDBClient') return client;
  (client as unknown as { middlewareStack: { add(middleware: unknown, options: unknown): void } }).middlewareStack.add(
    (next: (args: any) => Promise<any>, context: { commandName?: string }) => (args: any) => {
      if (context.commandName === 'BatchGetItemCommand') {
        for (const [table, { Keys }] of Object.entries<{ Keys: unknown[] }>(args.input.RequestItems ?? {})) {
          if (table === parley.resources.tables.routing) routeKeysRead += Keys.length;
          if (table === parley.resources.tables.devices) (deviceReads.batches++, (deviceReads.keys += Keys.length));
        }
      }
      if (context.commandName === 'QueryCommand' && args.input.TableName === parley.resources.tables.devices) deviceReads.queries++;
      if (context.commandName === 'UpdateItemCommand' && args.input.TableName === parley.resources.tables.groups && String(args.input.UpdateExpression).startsWith('SET members =')) membersWrites++;
      return next(args);
    },
    { step: 'initialize', name: 'countRouteReads' },
  );
  return client;
};
let alice: DeviceCredentials;
let online: DeviceCredentials[];
let simulated: SimulatedUser[];

beforeAll(async () => {
  parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0, instrumentClients: countRouteReads });
  [alice, ...online] = await Promise.all(['+14155558001', '+14155558002', '+14155558003', '+14155558004'].map((n) => registerAccount(parley, n)));
  simulated = await addSimulatedUsers(parley, MAX_GROUP_MEMBERS - 4);
}, 60_000);
afterAll(async () => {
  await parley?.stop();
});

/** How many items of each table hold this message (a group message is stored in its timeline, once). */
async function storedCopies(table: string, msgId: string): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page: ScanCommandOutput = await parley.clients.db.send(
      new ScanCommand({
        TableName: table,
        // Queue items hold no msgId of their own (they stay out of the byMessage index): the frame's is the one.
        FilterExpression: 'msgId = :m OR frame.msgId = :m',
        ExpressionAttributeValues: { ':m': msgId },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
}

/** The group's PUSH frames this device finds at SYNC. */
async function pushesAtSync(device: DeviceCredentials, conversationId: string): Promise<any[]> {
  const socket = await connectDevice(parley, device);
  const frames = (await syncQueue(socket)).filter((f) => f.type === 'PUSH' && f.conversationId === conversationId);
  await socket.close();
  return frames;
}

it('delivers a message to every device of 1,024 members exactly once from one stored copy, and refuses the 1,025th member', async () => {
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
  routeKeysRead = 0;
  Object.assign(deviceReads, { batches: 0, keys: 0, queries: 0 });
  const start = performance.now();
  sender!.send(frame);
  expect(await sender!.next((f) => f.requestId === 'g1')).toMatchObject({ type: 'ACK' });
  await Promise.all(receivers.map((socket) => socket.next((f) => f.type === 'PUSH' && f.msgId === frame.msgId, 20_000)));
  const lastOnlineMs = performance.now() - start;
  await parley.drainStreams();
  // Routes only of the devices whose record shows a connection (the three online members'), not of the
  // 1,200-odd offline ones.
  expect(routeKeysRead).toBe(online.length);
  // Every member device read by key, as the group's member entries list them, in batches of 100: no
  // query per member.
  const memberDevices = 1 + online.length + simulated.reduce((sum, user) => sum + user.devices, 0);
  expect(deviceReads).toEqual({ batches: Math.ceil(memberDevices / 100), keys: memberDevices, queries: 0 });

  // Stored once, for every member device: not one queue item per device.
  expect(await storedCopies(parley.resources.tables.groupTimeline, frame.msgId)).toBe(1);
  expect(await storedCopies(parley.resources.tables.deviceQueues, frame.msgId)).toBe(0);
  console.log(`1,024-member group: last online member had the message after ${Math.round(lastOnlineMs)} ms`);
  await Promise.all([sender!, ...receivers].map((socket) => socket.close()));

  // Offline member devices (a sample: first and second devices) find it once at SYNC; the sending device
  // and a non-member do not.
  const conversationId = frame.conversationId;
  const sample = [...simulated.slice(0, 10).map((user) => credentialsOf(user, 1)), ...simulated.filter((user) => user.devices === 2).slice(0, 5).map((user) => credentialsOf(user, 2))];
  for (const device of sample) expect((await pushesAtSync(device, conversationId)).map((p) => p.msgId)).toEqual([frame.msgId]);
  expect(await pushesAtSync(alice, conversationId)).toEqual([]);
  expect(await pushesAtSync(credentialsOf({ userId: extra, devices: 1 }), conversationId)).toEqual([]);
  await Promise.all([sender!, ...receivers].map((socket) => socket.close()));
}, 120_000);

it('lists the device ids of a 1,024-member group from before they were kept on its first message, in one write, and reads them by key on the second', async () => {
  const groupId = randomUUID();
  const members = [...online.map((d) => d.userId), ...simulated.map((s) => s.userId)];
  expect((await call(parley, 'POST', '/v1/groups', { device: alice, body: { groupId, name: 'Old', members } })).status).toBe(201);
  await parley.drainStreams();
  // The item as the code before the ids wrote it: no member lists ids, and no revision counts writes.
  const Key = { groupId };
  const { Item } = await parley.clients.db.send(new GetCommand({ TableName: parley.resources.tables.groups, Key, ConsistentRead: true }));
  const { revision: _revision, ...old } = Item!;
  const unlisted = Object.fromEntries(Object.entries(old.members as Record<string, { devices?: number[] }>).map(([userId, { devices: _devices, ...member }]) => [userId, member]));
  await parley.clients.db.send(new PutCommand({ TableName: parley.resources.tables.groups, Item: { ...old, members: unlisted } }));

  const memberDevices = 1 + online.length + simulated.reduce((sum, user) => sum + user.devices, 0);
  for (const [message, expected] of [
    // Every member queried (consistently), then all their ids written at once.
    { queries: MAX_GROUP_MEMBERS, batches: 0, keys: 0, membersWrites: 1 },
    { queries: 0, batches: Math.ceil(memberDevices / 100), keys: memberDevices, membersWrites: 0 },
  ].entries()) {
    const [sender, ...receivers] = await Promise.all([alice, ...online].map((device) => connectDevice(parley, device)));
    const msgId = randomUUID();
    Object.assign(deviceReads, { batches: 0, keys: 0, queries: 0 });
    membersWrites = 0;
    sender!.send({ action: 'GROUP_SEND', requestId: 'g', msgId, conversationId: `group:${groupId}`, seq: message + 1, groupVersion: 1, ciphertext: 'U2VuZGVyS2V5' });
    expect(await sender!.next((f) => f.requestId === 'g')).toMatchObject({ type: 'ACK' });
    await Promise.all(receivers.map((socket) => socket.next((f) => f.type === 'PUSH' && f.msgId === msgId, 20_000)));
    await parley.drainStreams();
    expect({ ...deviceReads, membersWrites }).toEqual(expected);
    await Promise.all([sender!, ...receivers].map((socket) => socket.close()));
  }
  const { Item: listed } = await parley.clients.db.send(new GetCommand({ TableName: parley.resources.tables.groups, Key, ConsistentRead: true }));
  const lists = Object.values(listed!.members as Record<string, { devices?: number[] }>).map((member) => member.devices?.length ?? 0);
  expect(lists.reduce((sum, n) => sum + n, 0)).toBe(memberDevices);
}, 120_000);
