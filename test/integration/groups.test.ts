/**
 * Groups on the local stack: membership and admins through the HTTP API, and every change reaching every
 * member's devices as an ordered GROUP_UPDATE in the group's conversation.
 */
import { randomUUID } from 'node:crypto';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import type { DeviceCredentials } from '../../lambdas/protocol/credentials';
import { call, connectDevice, linkDevice, registerAccount, type DeviceSocket } from '../support/device-client';
import { syncQueue } from '../support/sync-queue';

let parley: ParleyLocal;
let alice: DeviceCredentials;
let aliceTablet: DeviceCredentials;
let bob: DeviceCredentials;
let carol: DeviceCredentials;
let dave: DeviceCredentials;

beforeAll(async () => {
  parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0 });
  [alice, bob, carol, dave] = await Promise.all(['+14155557001', '+14155557002', '+14155557003', '+14155557004'].map((n) => registerAccount(parley, n)));
  aliceTablet = await linkDevice(parley, alice, 'Tablet');
});
afterAll(async () => {
  await parley?.stop();
});

const updatesIn = (frames: any[], groupId: string) => frames.filter((f) => f.type === 'GROUP_UPDATE' && f.groupId === groupId);

/** Every GROUP_UPDATE of the group this device has queued, in order, after the stream has been drained. */
async function updatesOf(device: DeviceCredentials, groupId: string): Promise<any[]> {
  await parley.drainStreams();
  const socket = await connectDevice(parley, device);
  const updates = updatesIn(await syncQueue(socket), groupId);
  await socket.close();
  return updates;
}

describe('groups', () => {
  let groupId: string;

  it('creates a group with the caller as admin, and tells every device of every member, live or queued', async () => {
    const live: DeviceSocket = await connectDevice(parley, bob);
    groupId = randomUUID();
    const created = await call(parley, 'POST', '/v1/groups', { device: alice, body: { groupId, name: 'Climbing', members: [bob.userId, carol.userId] } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ groupId, conversationId: `group:${groupId}`, name: 'Climbing', version: 1 });
    expect(Object.fromEntries(created.body.members.map((m: any) => [m.userId, m.role]))).toEqual({
      [alice.userId]: 'admin',
      [bob.userId]: 'member',
      [carol.userId]: 'member',
    });
    const pushed = await live.next((f) => f.type === 'GROUP_UPDATE' && f.groupId === groupId);
    expect(pushed).toMatchObject({ version: 1, by: alice.userId, added: [alice.userId, bob.userId, carol.userId], removed: [], madeAdmin: [alice.userId] });
    await live.close();
    for (const device of [alice, aliceTablet, carol]) expect((await updatesOf(device, groupId)).map((u) => u.version)).toEqual([1]);
    expect(await updatesOf(dave, groupId)).toEqual([]);
  });

  it('answers a retried create with the same group, announced once per device', async () => {
    const retried = await call(parley, 'POST', '/v1/groups', { device: alice, body: { groupId, name: 'Climbing', members: [bob.userId, carol.userId] } });
    expect(retried.status).toBe(201);
    expect(retried.body.version).toBe(1);
    expect((await updatesOf(carol, groupId)).map((u) => u.version)).toEqual([1]);
    const stolen = await call(parley, 'POST', '/v1/groups', { device: bob, body: { groupId, name: 'Mine', members: [] } });
    expect(stolen).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST' } } });
  });

  it('lists the group for its members, and shows it only to them', async () => {
    const mine = await call(parley, 'GET', '/v1/groups', { device: bob });
    expect(mine.body.groups).toEqual([{ groupId, conversationId: `group:${groupId}`, name: 'Climbing', version: 1, role: 'member', memberCount: 3 }]);
    expect((await call(parley, 'GET', `/v1/groups/${groupId}`, { device: carol })).status).toBe(200);
    expect((await call(parley, 'GET', `/v1/groups/${groupId}`, { device: dave })).status).toBe(404);
    expect((await call(parley, 'GET', '/v1/groups', { device: dave })).body.groups).toEqual([]);
    expect((await call(parley, 'GET', '/v1/groups/not-a-uuid', { device: bob })).status).toBe(400);
  });

  it('refuses admin actions from members and changes from non-members, changing nothing', async () => {
    const byMember = await call(parley, 'POST', `/v1/groups/${groupId}/members`, { device: bob, body: { add: [dave.userId] } });
    expect(byMember).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect((await call(parley, 'POST', `/v1/groups/${groupId}/members`, { device: bob, body: { remove: [carol.userId] } })).status).toBe(403);
    expect((await call(parley, 'POST', `/v1/groups/${groupId}/members`, { device: bob, body: { makeAdmin: [bob.userId] } })).status).toBe(403);
    expect((await call(parley, 'POST', `/v1/groups/${groupId}/members`, { device: dave, body: { remove: [dave.userId] } })).status).toBe(404);
    const unknown = await call(parley, 'POST', `/v1/groups/${groupId}/members`, { device: alice, body: { add: [randomUUID()] } });
    expect(unknown).toMatchObject({ status: 404, body: { error: { unknownUsers: [expect.any(String)] } } });
    expect((await call(parley, 'POST', `/v1/groups/${groupId}/members`, { device: alice, body: {} })).status).toBe(400);
    expect((await call(parley, 'GET', `/v1/groups/${groupId}`, { device: alice })).body.version).toBe(1);
  });

  it('lets an admin add and promote, and a member leave; every member, and who left, learns each change in order', async () => {
    const added = await call(parley, 'POST', `/v1/groups/${groupId}/members`, { device: alice, body: { add: [dave.userId], makeAdmin: [carol.userId] } });
    expect(added).toMatchObject({ status: 200, body: { version: 2 } });
    const left = await call(parley, 'POST', `/v1/groups/${groupId}/members`, { device: bob, body: { remove: [bob.userId] } });
    expect(left).toMatchObject({ status: 200, body: { version: 3 } });

    const aliceUpdates = await updatesOf(aliceTablet, groupId);
    expect(aliceUpdates.map((u) => [u.version, u.added, u.removed, u.madeAdmin])).toEqual([
      [1, [alice.userId, bob.userId, carol.userId], [], [alice.userId]],
      [2, [dave.userId], [], [carol.userId]],
      [3, [], [bob.userId], []],
    ]);
    // Dave joined at version 2: he learns of his joining and what followed, not what came before.
    expect((await updatesOf(dave, groupId)).map((u) => u.version)).toEqual([2, 3]);
    // Bob learns he left, and nothing after.
    expect((await updatesOf(bob, groupId)).map((u) => u.version)).toEqual([1, 2, 3]);
    await call(parley, 'POST', `/v1/groups/${groupId}/members`, { device: alice, body: { remove: [dave.userId] } });
    expect((await updatesOf(bob, groupId)).map((u) => u.version)).toEqual([1, 2, 3]);
    expect((await call(parley, 'GET', `/v1/groups/${groupId}`, { device: bob })).status).toBe(404);
  });

  it('hands the admin role on when the last admin leaves', async () => {
    const group = randomUUID();
    await call(parley, 'POST', '/v1/groups', { device: carol, body: { groupId: group, name: 'Book club', members: [alice.userId, dave.userId] } });
    const left = await call(parley, 'POST', `/v1/groups/${group}/members`, { device: carol, body: { remove: [carol.userId] } });
    const roles = Object.fromEntries(left.body.members.map((m: any) => [m.userId, m.role]));
    expect(Object.values(roles)).toContain('admin');
    expect(roles[carol.userId]).toBeUndefined();
  });
});
