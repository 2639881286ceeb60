/**
 * The device ids a group keeps for each member, on the local stack: the fan-out reads exactly those
 * devices by key, falls back to a query for a member whose entry lists none, and a device linked while
 * its user joins is listed whichever path runs first (the link's, or the fan-out of the joining), so it
 * gets the next group message's PUSH live.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import type { DeviceCredentials } from '../../lambdas/protocol/credentials';
import type { GroupRecord } from '../../lambdas/tables/groups';
import { call, connectDevice, forgetCodeRequests, linkDevice, registerAccount, type DeviceSocket, type TestDevice } from '../support/device-client';
import { syncQueue } from '../support/sync-queue';

let parley: ParleyLocal;
let alice: TestDevice;

/** The devices table's requests, counted while `counting`; and the group writes of members' ids. */
const deviceReads = { counting: false, queriedUsers: [] as string[], consistentQueries: 0, keys: [] as string[], batches: 0, membersWrites: 0 };

/** Counts afresh from now, until `deviceReads.counting` is set false. */
function startCounting(): void {
  Object.assign(deviceReads, { counting: true, queriedUsers: [], consistentQueries: 0, keys: [], batches: 0, membersWrites: 0 });
}

/** A gate holds back the answer of one read until opened: what is written meanwhile is not in it. */
interface Gate {
  /** Resolves when the held read arrived. */
  readonly reached: Promise<void>;
  open(): void;
}
type HeldRead = (commandName: string | undefined, input: any) => boolean;
const gates: (Gate & { matches: HeldRead; arrive(): void; opened: Promise<void> })[] = [];

/** The next read that `matches` answers once the gate opens. */
function holdRead(matches: HeldRead): Gate {
  let arrive!: () => void;
  let open!: () => void;
  const reached = new Promise<void>((resolve) => (arrive = resolve));
  const opened = new Promise<void>((resolve) => (open = resolve));
  const gate = { matches, reached, arrive, opened, open };
  gates.push(gate);
  return gate;
}

/** The next read of users' device ids by key (`consistent`: the fan-out's after a joining; else the change's). */
const holdDeviceIdRead = (consistent: boolean): Gate =>
  holdRead((command, input) => {
    const batch = command === 'BatchGetItemCommand' ? input.RequestItems?.[parley.resources.tables.devices] : undefined;
    return batch?.ProjectionExpression === 'userId, deviceId' && Boolean(batch.ConsistentRead) === consistent;
  });

/** The next query of the user's devices: the fan-out's of a member whose entry lists no ids, or a link's (its ids only). */
const holdDevicesQuery = (userId: string, by: 'fan-out' | 'link'): Gate =>
  holdRead(
    (command, input) =>
      command === 'QueryCommand' &&
      input.TableName === parley.resources.tables.devices &&
      input.ExpressionAttributeValues[':u'] === userId &&
      (input.ProjectionExpression === 'deviceId') === (by === 'link'),
  );

const watchDeviceReads = <T extends object>(client: T): T => {
  if (client.constructor.name !== 'DynamoDBClient') return client;
  (client as unknown as { middlewareStack: { add(middleware: unknown, options: unknown): void } }).middlewareStack.add(
    (next: (args: any) => Promise<any>, context: { commandName?: string }) => async (args: any) => {
      const table = parley.resources.tables.devices;
      const batch = context.commandName === 'BatchGetItemCommand' ? args.input.RequestItems?.[table] : undefined;
      if (deviceReads.counting && context.commandName === 'QueryCommand' && args.input.TableName === table) {
        deviceReads.queriedUsers.push(args.input.ExpressionAttributeValues[':u']);
        if (args.input.ConsistentRead) deviceReads.consistentQueries++;
      }
      if (deviceReads.counting && batch) {
        deviceReads.batches++;
        deviceReads.keys.push(...batch.Keys.map((key: { userId: string; deviceId: number }) => `${key.userId}.${key.deviceId}`));
      }
      if (deviceReads.counting && context.commandName === 'UpdateItemCommand' && args.input.TableName === parley.resources.tables.groups) {
        if (String(args.input.UpdateExpression).startsWith('SET members =')) deviceReads.membersWrites++;
      }
      const held = gates.findIndex((gate) => gate.matches(context.commandName, args.input));
      if (held < 0) return next(args);
      const [gate] = gates.splice(held, 1);
      // The read is done, its answer held back: what is written meanwhile is not in it.
      const answer = await next(args);
      gate!.arrive();
      await gate!.opened;
      return answer;
    },
    { step: 'initialize', name: 'watchDeviceReads' },
  );
  return client;
};

beforeAll(async () => {
  parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0, instrumentClients: watchDeviceReads });
  alice = await registerAccount(parley, '+14155559101');
});
afterAll(async () => {
  await parley?.stop();
});

const groupItem = async (groupId: string) =>
  (await parley.clients.db.send(new GetCommand({ TableName: parley.resources.tables.groups, Key: { groupId }, ConsistentRead: true }))).Item as GroupRecord;

async function newGroup(members: readonly DeviceCredentials[]): Promise<string> {
  const groupId = randomUUID();
  const created = await call(parley, 'POST', '/v1/groups', { device: alice, body: { groupId, name: 'Devices', members: members.map((m) => m.userId) } });
  expect(created.status).toBe(201);
  await parley.drainStreams();
  return groupId;
}

/** Alice sends the group a message at `groupVersion`; answers its msgId once the server accepted it, maybe not yet fanned out. */
async function aliceSendsUndrained(groupId: string, groupVersion: number): Promise<string> {
  const socket = await connectDevice(parley, alice);
  const msgId = randomUUID();
  socket.send({ action: 'GROUP_SEND', requestId: 's', msgId, conversationId: `group:${groupId}`, seq: 1, groupVersion, ciphertext: 'U2VuZGVyS2V5' });
  expect(await socket.next((f) => f.requestId === 's')).toMatchObject({ type: 'ACK' });
  await socket.close();
  return msgId;
}

/** Alice sends the group a message at `groupVersion`; answers its msgId once it is fanned out. */
async function aliceSends(groupId: string, groupVersion: number): Promise<string> {
  const msgId = await aliceSendsUndrained(groupId, groupVersion);
  await parley.drainStreams();
  return msgId;
}

/** Takes the ids out of the member entries of `userIds`, as a group from before they were kept has none. */
async function unlist(groupId: string, userIds: readonly string[]): Promise<void> {
  await parley.clients.db.send(
    new UpdateCommand({
      TableName: parley.resources.tables.groups,
      Key: { groupId },
      UpdateExpression: `REMOVE ${userIds.map((_, i) => `members.#u${i}.devices`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(userIds.map((userId, i) => [`#u${i}`, userId])),
    }),
  );
}

/** The devices connect, Alice sends, and each must have the message pushed live. */
async function pushedLiveTo(devices: readonly DeviceCredentials[], groupId: string, groupVersion: number): Promise<void> {
  const sockets: DeviceSocket[] = await Promise.all(devices.map((device) => connectDevice(parley, device)));
  const pushes = sockets.map((socket) => socket.next((f) => f.type === 'PUSH' && f.conversationId === `group:${groupId}`, 10_000));
  const msgId = await aliceSends(groupId, groupVersion);
  for (const push of await Promise.all(pushes)) expect(push.msgId).toBe(msgId);
  await Promise.all(sockets.map((socket) => socket.close()));
}

describe('a group fan-out reads its members’ devices', () => {
  it('by key, exactly the devices the members’ entries list, with no query', async () => {
    const bob = await registerAccount(parley, '+14155559102');
    const bobTablet = await linkDevice(parley, bob, 'Tablet');
    const groupId = await newGroup([bob]);
    expect((await groupItem(groupId)).members).toMatchObject({ [alice.userId]: { devices: [1] }, [bob.userId]: { devices: [1, 2] } });
    startCounting();
    await pushedLiveTo([bob, bobTablet], groupId, 1);
    deviceReads.counting = false;
    expect(deviceReads.queriedUsers).toEqual([]);
    expect(deviceReads.keys.sort()).toEqual([`${alice.userId}.1`, `${bob.userId}.1`, `${bob.userId}.2`].sort());
  });

  it('of a group from before the ids were kept by queries on its first message, which lists them all for the second: batches only', async () => {
    const [carol, kim] = await Promise.all([registerAccount(parley, '+14155559103'), registerAccount(parley, '+14155559111')]);
    const [carolLaptop, carolWatch] = [await linkDevice(parley, carol, 'Laptop'), await linkDevice(parley, carol, 'Watch')];
    const groupId = await newGroup([carol, kim]);
    // The item as the code before wrote it: no member lists ids, and no revision counts writes.
    const { revision: _revision, ...before } = await groupItem(groupId);
    const members = Object.fromEntries(Object.entries(before.members).map(([userId, { devices: _devices, ...member }]) => [userId, member]));
    await parley.clients.db.send(new PutCommand({ TableName: parley.resources.tables.groups, Item: { ...before, members } }));
    const everyDevice = [carol, carolLaptop, carolWatch, kim];

    startCounting();
    await pushedLiveTo(everyDevice, groupId, 1);
    // Every member queried (Alice too, for her other devices), consistently, as their ids are written from it; in one write.
    expect(deviceReads.queriedUsers.sort()).toEqual([alice.userId, carol.userId, kim.userId].sort());
    expect(deviceReads.consistentQueries).toBe(3);
    expect(deviceReads.keys).toEqual([]);
    expect(deviceReads.membersWrites).toBe(1);
    expect((await groupItem(groupId)).members).toMatchObject({
      [alice.userId]: { devices: [1] },
      [carol.userId]: { devices: [1, 2, 3] },
      [kim.userId]: { devices: [1] },
    });

    startCounting();
    await pushedLiveTo(everyDevice, groupId, 1);
    expect(deviceReads.queriedUsers).toEqual([]);
    expect(deviceReads.batches).toBe(1);
    expect(deviceReads.keys.sort()).toEqual([`${alice.userId}.1`, `${carol.userId}.1`, `${carol.userId}.2`, `${carol.userId}.3`, `${kim.userId}.1`].sort());
    expect(deviceReads.membersWrites).toBe(0);
    deviceReads.counting = false;
  });

  it('keeps a removed device’s id (one key read, found missing) and delivers to the others', async () => {
    const dave = await registerAccount(parley, '+14155559104');
    const daveTablet = await linkDevice(parley, dave, 'Tablet');
    const groupId = await newGroup([dave]);
    expect(await call(parley, 'DELETE', `/v1/devices/${daveTablet.deviceId}`, { device: dave })).toMatchObject({ status: 204 });
    expect((await groupItem(groupId)).members[dave.userId]?.devices).toEqual([1, 2]);
    await pushedLiveTo([dave], groupId, 1);
    // A device linked again takes the free id 2, listed already: it is not listed twice.
    const davePhone = await linkDevice(parley, dave, 'Second phone');
    expect(davePhone.deviceId).toBe(2);
    expect((await groupItem(groupId)).members[dave.userId]?.devices).toEqual([1, 2]);
    await pushedLiveTo([dave, davePhone], groupId, 1);
  });
});

describe('a device linked while its user joins a group', () => {
  it('is listed by the link once the user is in the group, and pushed the next message', async () => {
    const erin = await registerAccount(parley, '+14155559105');
    const groupId = await newGroup([erin]);
    const erinTablet = await linkDevice(parley, erin, 'Tablet');
    expect((await groupItem(groupId)).members[erin.userId]?.devices).toEqual([1, 2]);
    await pushedLiveTo([erin, erinTablet], groupId, 1);
  });

  it.each([
    // The change read the user's one device and has not written the group: the link finds no group of the user's.
    { by: 'the fan-out of the joining', when: 'after the change read the user’s devices', phoneNumber: '+14155559106', heldRead: 'the change’s' as const, getsItsJoining: true },
    // The fan-out recorded the joining in the chat list and read the user's one device: the link lists the tablet.
    // (The GROUP_UPDATE of the joining was queued before the link, which starts the tablet on an empty queue.)
    { by: 'the link', when: 'after the joining is recorded and the fan-out read the user’s devices', phoneNumber: '+14155559107', heldRead: 'the fan-out’s' as const, getsItsJoining: false },
  ])('is listed by $by when linked $when, and pushed the next message', async ({ phoneNumber, heldRead, getsItsJoining }) => {
    const user = await registerAccount(parley, phoneNumber);
    const groupId = await newGroup([]);
    const held = holdDeviceIdRead(heldRead === 'the fan-out’s');
    const change = call(parley, 'POST', `/v1/groups/${groupId}/members`, { device: alice, body: { add: [user.userId] } });
    await held.reached;
    const tablet = await linkDevice(parley, user, 'Tablet').finally(() => held.open());
    expect((await change).status).toBe(200);
    await parley.drainStreams();
    expect((await groupItem(groupId)).members[user.userId]?.devices).toEqual([1, 2]);
    // The joining's GROUP_UPDATE went to the devices the user had when it was fanned out, not to the ids the change read.
    const socket = await connectDevice(parley, tablet);
    const joinings = (await syncQueue(socket)).filter((f) => f.type === 'GROUP_UPDATE' && f.groupId === groupId && f.version === 2);
    await socket.close();
    expect(joinings).toHaveLength(getsItsJoining ? 1 : 0);
    await pushedLiveTo([user, tablet], groupId, 2);
  });

  it('keeps a member’s id added by a link while another user’s joining is being written', async () => {
    const [henry, iris] = await Promise.all([registerAccount(parley, '+14155559108'), registerAccount(parley, '+14155559109')]);
    const groupId = await newGroup([henry]);
    const held = holdDeviceIdRead(false);
    const change = call(parley, 'POST', `/v1/groups/${groupId}/members`, { device: alice, body: { add: [iris.userId] } });
    await held.reached;
    // The change read the group before Henry's tablet was listed: its write must not put the old list back.
    const henryTablet = await linkDevice(parley, henry, 'Tablet').finally(() => held.open());
    expect((await change).status).toBe(200);
    await parley.drainStreams();
    expect((await groupItem(groupId)).members).toMatchObject({ [henry.userId]: { devices: [1, 2] }, [iris.userId]: { devices: [1] } });
    await pushedLiveTo([henry, henryTablet, iris], groupId, 2);
  });

  it('needs no new id when the number registers again: the new primary device keeps id 1 and gets the PUSH', async () => {
    const jack = await registerAccount(parley, '+14155559110');
    await linkDevice(parley, jack, 'Tablet');
    const groupId = await newGroup([jack]);
    await forgetCodeRequests(parley, '+14155559110');
    const newPhone = await registerAccount(parley, '+14155559110', 'New phone');
    expect(newPhone).toMatchObject({ userId: jack.userId, deviceId: 1 });
    // The signed-out tablet's id stays listed (one key read), harmless.
    expect((await groupItem(groupId)).members[jack.userId]?.devices).toEqual([1, 2]);
    await pushedLiveTo([newPhone], groupId, 1);
  });
});

describe('a device linked while a group message’s fan-out lists its user’s ids for the first time', () => {
  it.each([
    // The fan-out read the user's one device; the link starts the entry's ids with both, so the fan-out's write is refused.
    { first: 'the link', phoneNumber: '+14155559112' },
    // The link found no ids to append to and read both devices; the fan-out lists the one it read, so the link appends.
    { first: 'the fan-out', phoneNumber: '+14155559113' },
  ])('is listed whichever writes first ($first), and pushed the next message', async ({ first, phoneNumber }) => {
    const user = await registerAccount(parley, phoneNumber);
    const groupId = await newGroup([user]);
    await unlist(groupId, [user.userId]);
    // The fan-out's query of the user's devices, the next one (it is the only reader of them until it is reached).
    const fanoutRead = holdDevicesQuery(user.userId, 'fan-out');
    await aliceSendsUndrained(groupId, 1);
    await fanoutRead.reached;
    let tablet: TestDevice;
    if (first === 'the link') {
      tablet = await linkDevice(parley, user, 'Tablet');
      expect((await groupItem(groupId)).members[user.userId]?.devices).toEqual([1, 2]);
      fanoutRead.open();
      await parley.drainStreams();
    } else {
      const linkRead = holdDevicesQuery(user.userId, 'link');
      const linking = linkDevice(parley, user, 'Tablet');
      await linkRead.reached;
      fanoutRead.open();
      await parley.drainStreams();
      expect((await groupItem(groupId)).members[user.userId]?.devices).toEqual([1]);
      linkRead.open();
      tablet = await linking;
    }
    expect((await groupItem(groupId)).members[user.userId]?.devices).toEqual([1, 2]);
    startCounting();
    await pushedLiveTo([user, tablet], groupId, 1);
    expect(deviceReads.queriedUsers).toEqual([]);
    deviceReads.counting = false;
  });

  it('lists a link’s whole device set in an entry without ids, so the next message reads it by key', async () => {
    const lee = await registerAccount(parley, '+14155559114');
    const leeTablet = await linkDevice(parley, lee, 'Tablet');
    const groupId = await newGroup([lee]);
    await unlist(groupId, [lee.userId]);
    const leeLaptop = await linkDevice(parley, lee, 'Laptop');
    expect((await groupItem(groupId)).members[lee.userId]?.devices).toEqual([1, 2, 3]);
    startCounting();
    await pushedLiveTo([lee, leeTablet, leeLaptop], groupId, 1);
    expect(deviceReads.queriedUsers).toEqual([]);
    deviceReads.counting = false;
  });
});
