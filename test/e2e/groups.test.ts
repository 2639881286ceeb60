/**
 * Group chat through the local stack with the client SDK and real Sender Keys: 5 users with 2 devices
 * each (every pair of devices sets up a session: 10 devices take 90, the 16 this once had took 240). Every member device decrypts every group message; ticks come once everyone has a message; a
 * removed member gets nothing more and could not read it anyway (the senders' keys rotated); a late
 * joiner gets only what is sent after it joined; refused actions surface as the server's error; and
 * concurrent senders leave every member with the same order.
 */
import * as signal from '@signalapp/libsignal-client';
import type { GroupSendFrame } from '../../lambdas/protocol/frames';
import type { IncomingMessage } from '../../client/events';
import { ParleyApiError } from '../../client/errors';
import { StoredSenderKeys } from '../../client/store/protocol-stores';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { linkClient, registerClient, type TestClient } from '../support/sdk-clients';

interface User {
  readonly phone: TestClient;
  readonly laptop: TestClient;
}

let parley: ParleyLocal;
let users: User[];
let late: User;
let outsider: TestClient;
let groupId: string;
/** Generous: the first round sets up 90 sessions and 40 key SENDs, seconds alone but more on a busy 2-core box. */
const WAIT_MS = 90_000;
const TEST_MS = 240_000;
const USERS = 5;
/** Every GROUP_SEND the server accepted, as sent. */
const groupSends: GroupSendFrame[] = [];

const devicesOf = (user: User) => [user.phone, user.laptop];
const userId = (user: User) => user.phone.client.userId;
const groupMessages = (device: TestClient): IncomingMessage[] => device.events.seen.message.filter((m) => m.groupId === groupId);
const deviceName = (device: TestClient) => `${device.client.userId}.${device.client.deviceId}`;

/** Waits until every device has the message, or (its sender) sent it. */
async function everyoneHas(devices: readonly TestClient[], msgIds: readonly string[], sender: (msgId: string) => TestClient): Promise<void> {
  await Promise.all(
    devices.flatMap((device) => msgIds.filter((msgId) => sender(msgId) !== device).map((msgId) => device.events.waitFor('message', (m) => m.msgId === msgId, WAIT_MS))),
  );
}

/** Lets whatever is still on its way arrive: the stream is drained and the queues are read. */
async function settle(): Promise<void> {
  await parley.drainStreams();
  await new Promise((resolve) => setTimeout(resolve, 300));
}

beforeAll(async () => {
  parley = await startParleyLocal({
    webSocketPort: 0,
    httpPort: 0,
    intercept: (id, invoke) => async (event: any) => {
      const answer = await invoke(event);
      if (id === 'groupSend') groupSends.push(JSON.parse(event.body));
      return answer;
    },
  });
  const newUser = async (phoneNumber: string): Promise<User> => {
    const phone = await registerClient(parley, phoneNumber);
    return { phone, laptop: await linkClient(parley, phone, 'Laptop') };
  };
  users = [];
  for (let i = 0; i < USERS; i++) users.push(await newUser(`+1415555170${i}`));
  late = await newUser('+14155551710');
  outsider = await registerClient(parley, '+14155551711');
}, 120_000);
afterAll(async () => {
  for (const device of [...(users ?? []).flatMap(devicesOf), ...(late ? devicesOf(late) : []), outsider].filter(Boolean)) device.client.close();
  await parley?.stop();
});

describe(`A group of ${USERS} users with 2 devices each`, () => {
  it('is created by its admin and announced to every member device', async () => {
    const [admin, ...others] = users;
    const group = await admin!.phone.client.createGroup('Book club', others.map(userId));
    groupId = group.groupId;
    expect(group.members).toHaveLength(USERS);
    expect(group.members.find((m) => m.userId === userId(admin!))?.role).toBe('admin');
    await Promise.all(users.flatMap(devicesOf).map((device) => device.events.waitFor('groupUpdate', (u) => u.groupId === groupId, WAIT_MS)));
    // The chat lists that GET /v1/groups reads are written after the update is pushed: let the fanout finish.
    await parley.drainStreams();
    expect((await users[3]!.laptop.client.listGroups()).map((g) => g.groupId)).toEqual([groupId]);
  });

  it('chats: every member device decrypts every message, and the sender sees ticks once everyone has it and read it', async () => {
    const devices = users.flatMap(devicesOf);
    // Every device's first group message gives its Sender Key to the other member devices first (one SEND per user); all at once.
    const sends = await Promise.all(devices.map(async (device) => [(await device.client.sendToGroup(groupId, `hello from ${deviceName(device)}`)).msgId, device] as const));
    const sent = new Map<string, TestClient>(sends);
    await everyoneHas(devices, [...sent.keys()], (msgId) => sent.get(msgId)!);
    for (const device of devices) {
      const expected = [...sent].filter(([, sender]) => sender !== device).map(([, sender]) => `hello from ${deviceName(sender)}`);
      expect(groupMessages(device).map((m) => m.text).sort()).toEqual(expected.sort());
      expect(groupMessages(device).every((m) => m.outgoing === (m.from.userId === device.client.userId))).toBe(true);
      expect(device.events.seen.undecryptable).toEqual([]);
    }
    // One Sender Key message per device to encrypt for all the others: one GROUP_SEND each. Under load the SDK
    // may send a frame again after a request timeout: the same frame, never another ciphertext.
    const frames = groupSends.filter((frame) => sent.has(frame.msgId));
    expect(new Set(frames.map((frame) => frame.msgId)).size).toBe(devices.length);
    for (const frame of frames) expect(frame.ciphertext).toBe(frames.find((other) => other.msgId === frame.msgId)!.ciphertext);

    const [first] = sent.keys();
    const sender = sent.get(first!)!;
    await sender.events.waitFor('receipt', (r) => r.everyone === true && r.status === 'delivered' && r.msgIds.includes(first!), WAIT_MS);
    const readers = users.filter((user) => user.phone !== sender);
    for (const reader of readers) await reader.phone.client.markRead(`group:${groupId}`, first!);
    await sender.events.waitFor('receipt', (r) => r.everyone === true && r.status === 'read' && r.msgIds.includes(first!), WAIT_MS);
    expect(sender.events.seen.receipt.filter((r) => r.everyone && r.status === 'delivered' && r.msgIds.includes(first!))).toHaveLength(1);
  }, TEST_MS);

  it('leaves every member with the same order when members send at once', async () => {
    const devices = users.flatMap(devicesOf);
    const before = new Map(devices.map((device) => [device, groupMessages(device).length]));
    const results = await Promise.all(devices.map(async (device) => ({ device, sent: await device.client.sendToGroup(groupId, `at once from ${deviceName(device)}`) })));
    await everyoneHas(
      devices,
      results.map((r) => r.sent.msgId),
      (msgId) => results.find((r) => r.sent.msgId === msgId)!.device,
    );
    const orderSeenBy = (device: TestClient) =>
      [
        ...groupMessages(device).slice(before.get(device)).map((m) => ({ msgId: m.msgId, serverTs: m.serverTs })),
        ...results.filter((r) => r.device === device).map((r) => ({ msgId: r.sent.msgId, serverTs: r.sent.serverTs })),
      ]
        .sort((a, b) => a.serverTs - b.serverTs)
        .map((m) => `${m.serverTs} ${m.msgId}`);
    const order = orderSeenBy(devices[0]!);
    expect(order).toHaveLength(devices.length);
    expect(new Set(order.map((line) => line.split(' ')[0])).size).toBe(devices.length); // no two messages share a place
    for (const device of devices) expect(orderSeenBy(device)).toEqual(order);
  }, TEST_MS);

  it('refuses admin actions of a member and every action of a non-member, with the server\'s error', async () => {
    const member = users[2]!.phone.client;
    await expect(member.removeMembers(groupId, [userId(users[3]!)])).rejects.toMatchObject({ name: 'ParleyApiError', code: 'FORBIDDEN', status: 403 });
    await expect(member.addMembers(groupId, [outsider.client.userId])).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(member.makeAdmin(groupId, [userId(users[3]!)])).rejects.toMatchObject({ code: 'FORBIDDEN' });
    for (const attempt of [
      () => outsider.client.getGroup(groupId),
      () => outsider.client.sendToGroup(groupId, 'let me in'),
      () => outsider.client.addMembers(groupId, [outsider.client.userId]),
    ]) {
      await expect(attempt()).rejects.toBeInstanceOf(ParleyApiError);
      await expect(attempt()).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });
    }
    expect(outsider.events.seen.message).toEqual([]);
  });

  it('sends nothing more to a removed member, and rotates the keys so it could not read it anyway', async () => {
    const [admin] = users;
    const removed = users[USERS - 1]!;
    const remaining = users.slice(0, USERS - 1);
    await admin!.phone.client.removeMembers(groupId, [userId(removed)]);
    await Promise.all([...remaining, removed].flatMap(devicesOf).map((device) => device.events.waitFor('groupUpdate', (u) => u.removed.includes(userId(removed)), WAIT_MS)));
    const removedSaw = devicesOf(removed).map((device) => device.events.seen.message.length);

    const sender = users[1]!.phone;
    const { msgId } = await sender.client.sendToGroup(groupId, 'after the removal');
    await everyoneHas(remaining.flatMap(devicesOf), [msgId], () => sender);
    await settle();
    expect(devicesOf(removed).map((device) => device.events.seen.message.length)).toEqual(removedSaw);
    expect(devicesOf(removed).flatMap((device) => device.events.seen.undecryptable)).toEqual([]);

    // The removed member's store holds the sender's old key, not the new one: given the ciphertext, it cannot decrypt it.
    const ciphertext = Uint8Array.from(Buffer.from(groupSends.find((frame) => frame.msgId === msgId)!.ciphertext, 'base64'));
    const message = signal.SenderKeyMessage.deserialize(ciphertext);
    const senderAddress = signal.ProtocolAddress.new(sender.client.userId, sender.client.deviceId);
    const oldMessage = groupSends.find((frame) => frame.msgId !== msgId && groupMessages(users[2]!.phone).some((m) => m.msgId === frame.msgId && m.from.userId === sender.client.userId && m.from.deviceId === sender.client.deviceId))!;
    const oldDistribution = signal.SenderKeyMessage.deserialize(Uint8Array.from(Buffer.from(oldMessage.ciphertext, 'base64'))).distributionId();
    expect(message.distributionId()).not.toEqual(oldDistribution);
    const removedKeys = new StoredSenderKeys(removed.phone.store);
    expect(await removedKeys.getSenderKey(senderAddress, oldDistribution)).not.toBeNull();
    expect(await removedKeys.getSenderKey(senderAddress, message.distributionId())).toBeNull();
    await expect(signal.groupDecrypt(senderAddress, removedKeys, ciphertext)).rejects.toThrow();

    await expect(removed.phone.client.sendToGroup(groupId, 'still here?')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(removed.laptop.client.getGroup(groupId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  }, TEST_MS);

  it('gives a member who joins later only what is sent after it joined', async () => {
    await users[0]!.phone.client.addMembers(groupId, [userId(late)]);
    // A member learns of the change from its queue; a message sent before that would miss the newcomer (see client/README.md).
    const members = [...users.slice(0, USERS - 1), late].flatMap(devicesOf);
    await Promise.all(members.map((device) => device.events.waitFor('groupUpdate', (u) => u.added.includes(userId(late)), WAIT_MS)));
    const sender = users[3]!.laptop;
    const { msgId } = await sender.client.sendToGroup(groupId, 'welcome');
    const reply = await late.phone.client.sendToGroup(groupId, 'thanks');
    await everyoneHas(members, [msgId, reply.msgId], (id) => (id === msgId ? sender : late.phone));
    await settle();
    expect(groupMessages(late.phone).map((m) => m.text)).toEqual(['welcome']);
    expect(groupMessages(late.laptop).map((m) => m.text).sort()).toEqual(['thanks', 'welcome']);
    expect(devicesOf(late).flatMap((device) => device.events.seen.undecryptable)).toEqual([]);
  }, TEST_MS);

  it('lets a member leave; the others carry on with rotated keys', async () => {
    const leaver = users[USERS - 2]!;
    await leaver.phone.client.leaveGroup(groupId);
    const stayers = [...users.slice(0, USERS - 2), late];
    await Promise.all(stayers.flatMap(devicesOf).map((device) => device.events.waitFor('groupUpdate', (u) => u.removed.includes(userId(leaver)), WAIT_MS)));
    const saw = leaver.laptop.events.seen.message.length;
    const { msgId } = await users[0]!.phone.client.sendToGroup(groupId, 'goodbye');
    await everyoneHas(stayers.flatMap(devicesOf), [msgId], () => users[0]!.phone);
    await settle();
    expect(leaver.laptop.events.seen.message.length).toBe(saw);
    expect((await users[0]!.phone.client.getGroup(groupId)).members.map((m) => m.userId)).not.toContain(userId(leaver));
  }, TEST_MS);
});
