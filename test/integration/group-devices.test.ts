/**
 * The device ids a group keeps for each member, on the local stack: the fan-out reads exactly those
 * devices by key, falls back to a query for a member whose entry lists none, and a device linked while
 * its user joins is listed whichever path runs first (the link's, or the fan-out of the joining), so it
 * gets the next group message's PUSH live.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import type { DeviceCredentials } from '../../lambdas/protocol/credentials';
import type { GroupRecord } from '../../lambdas/tables/groups';
import { call, connectDevice, forgetCodeRequests, linkDevice, registerAccount, type DeviceSocket, type TestDevice } from '../support/device-client';
import { syncQueue } from '../support/sync-queue';

let parley: ParleyLocal;
let alice: TestDevice;

/** The devices table's requests, counted while `counting`. */
const deviceReads = { counting: false, queriedUsers: [] as string[], keys: [] as string[], batches: 0 };

/** A gate holds back the answer of a read of users' device ids (the change's, or the fan-out's after a joining) until opened. */
interface Gate {
  readonly consistent: boolean;
  /** Resolves when the held read arrived. */
  readonly reached: Promise<void>;
  open(): void;
}
let gate: (Gate & { arrive(): void; opened: Promise<void> }) | undefined;

/** The next read of device ids (`consistent`: the fan-out's after a joining; else the change's) answers once the gate opens. */
function holdDeviceIdRead(consistent: boolean): Gate {
  let arrive!: () => void;
  let open!: () => void;
  const reached = new Promise<void>((resolve) => (arrive = resolve));
  const opened = new Promise<void>((resolve) => (open = resolve));
  gate = { consistent, reached, arrive, opened, open };
  return gate;
}

const watchDeviceReads = <T extends object>(client: T): T => {
  if (client.constructor.name !== 'DynamoDBClient') return client;
  (client as unknown as { middlewareStack: { add(middleware: unknown, options: unknown): void } }).middlewareStack.add(
    (next: (args: any) => Promise<any>, context: { commandName?: string }) => async (args: any) => {
      const table = parley.resources.tables.devices;
      const batch = context.commandName === 'BatchGetItemCommand' ? args.input.RequestItems?.[table] : undefined;
      if (deviceReads.counting && context.commandName === 'QueryCommand' && args.input.TableName === table) deviceReads.queriedUsers.push(args.input.ExpressionAttributeValues[':u']);
      if (deviceReads.counting && batch) {
        deviceReads.batches++;
        deviceReads.keys.push(...batch.Keys.map((key: { userId: string; deviceId: number }) => `${key.userId}.${key.deviceId}`));
      }
      const held = gate;
      if (!held || batch?.ProjectionExpression !== 'userId, deviceId' || Boolean(batch.ConsistentRead) !== held.consistent) return next(args);
      // The read is done, its answer held back: what is written meanwhile is not in it.
      gate = undefined;
      const answer = await next(args);
      held.arrive();
      await held.opened;
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

/** Alice sends the group a message at `groupVersion`; answers its msgId once it is fanned out. */
async function aliceSends(groupId: string, groupVersion: number): Promise<string> {
  const socket = await connectDevice(parley, alice);
  const msgId = randomUUID();
  socket.send({ action: 'GROUP_SEND', requestId: 's', msgId, conversationId: `group:${groupId}`, seq: 1, groupVersion, ciphertext: 'U2VuZGVyS2V5' });
  expect(await socket.next((f) => f.requestId === 's')).toMatchObject({ type: 'ACK' });
  await parley.drainStreams();
  await socket.close();
  return msgId;
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
    deviceReads.counting = true;
    deviceReads.queriedUsers = [];
    deviceReads.keys = [];
    await pushedLiveTo([bob, bobTablet], groupId, 1);
    deviceReads.counting = false;
    expect(deviceReads.queriedUsers).toEqual([]);
    expect(deviceReads.keys.sort()).toEqual([`${alice.userId}.1`, `${bob.userId}.1`, `${bob.userId}.2`].sort());
  });

  it('by a query for a member whose entry lists no ids (a group from before they were kept)', async () => {
    const carol = await registerAccount(parley, '+14155559103');
    const carolLaptop = await linkDevice(parley, carol, 'Laptop');
    const groupId = await newGroup([carol]);
    await parley.clients.db.send(
      new UpdateCommand({
        TableName: parley.resources.tables.groups,
        Key: { groupId },
        UpdateExpression: 'REMOVE members.#carol.devices',
        ExpressionAttributeNames: { '#carol': carol.userId },
      }),
    );
    deviceReads.counting = true;
    deviceReads.queriedUsers = [];
    deviceReads.keys = [];
    await pushedLiveTo([carol, carolLaptop], groupId, 1);
    deviceReads.counting = false;
    expect(deviceReads.queriedUsers).toEqual([carol.userId]);
    expect(deviceReads.keys).toEqual([`${alice.userId}.1`]);
    // A later link does not make such an entry a partial list: the fan-out still queries it whole.
    const carolWatch = await linkDevice(parley, carol, 'Watch');
    expect((await groupItem(groupId)).members[carol.userId]?.devices).toBeUndefined();
    await pushedLiveTo([carol, carolLaptop, carolWatch], groupId, 1);
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
