/**
 * Presence, typing, privacy, blocking and contact discovery through the local stack with the client SDK:
 * online while any device is connected, offline with a last-seen time when the last goes (or when its
 * route expires after its socket died without a close), typing relayed to live devices only and throttled,
 * every privacy rule with its reciprocity, blocking invisible to the blocked, and a lookup quota.
 */
import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { ParleyApiError } from '../../client/errors';
import { routeTtlMs } from '../../lambdas/protocol/limits';
import { LOOKUPS_PER_DAY } from '../../lambdas/contacts/constants';
import { call, connectDevice, registerAccount, request, type DeviceSocket, type TestDevice } from '../support/device-client';
import { linkClient, registerClient, reopenClient, type TestClient } from '../support/sdk-clients';
import { collectServerData } from '../support/server-scan';

let parley: ParleyLocal;
/** How far the handlers' clock runs ahead of the real one: the TTL case moves it past a route's life. */
let clockOffset = 0;
/** While set, `$disconnect` of this user is never invoked: their socket "dies" without API Gateway noticing. */
let swallowDisconnectsOf: string | undefined;

beforeAll(async () => {
  parley = await startParleyLocal({
    webSocketPort: 0,
    httpPort: 0,
    now: () => Date.now() + clockOffset,
    ttlSweepIntervalMs: 3_600_000,
    intercept: (id, invoke) => async (event: any) => {
      if (id === 'disconnect' && event.requestContext?.authorizer?.userId === swallowDisconnectsOf) return { statusCode: 200 };
      return invoke(event);
    },
  });
});
afterAll(async () => {
  await parley?.stop();
});

let phoneNumbers = 0;
const nextPhone = () => `+1415555${String(7000 + phoneNumbers++).padStart(4, '0')}`;

const refusal = async (promise: Promise<unknown>) => {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ParleyApiError);
  return error as ParleyApiError;
};

describe('presence', () => {
  it('shows a user online while any device is connected, then offline with a last-seen time, to every watching device', async () => {
    const bob = await registerClient(parley, nextPhone());
    const bobLaptop = await linkClient(parley, bob, 'Laptop');
    const alicePhone = await registerClient(parley, nextPhone());
    const aliceLaptop = await linkClient(parley, alicePhone, 'Laptop');
    const alice = alicePhone.client.userId;
    alicePhone.client.close();
    aliceLaptop.client.close();
    await new Promise((resolve) => setTimeout(resolve, 300));

    const [before] = await bob.client.subscribePresence([alice]);
    expect(before).toMatchObject({ userId: alice, online: false });
    await bobLaptop.client.subscribePresence([alice]);
    const laptopCount = bobLaptop.events.seen.presence.length;
    const seen = bob.events.seen.presence;
    const count = seen.length;

    const reopened = await Promise.all([reopenClient(parley, alicePhone.store), reopenClient(parley, aliceLaptop.store)]);
    await bob.events.waitFor('presence', (event) => event.userId === alice && event.online);
    expect(seen.slice(count).filter((event) => event.userId === alice && event.online)).toHaveLength(1);

    reopened[0].client.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
    // One device left: still online, nothing announced.
    expect(seen.slice(count).filter((event) => !event.online)).toHaveLength(0);
    expect(await bob.client.getPresence(alice)).toEqual({ userId: alice, online: true });

    const closedAt = Date.now();
    reopened[1].client.close();
    const offline = await bob.events.waitFor('presence', (event) => event.userId === alice && !event.online && seen.indexOf(event) >= count);
    expect(offline.lastSeen).toBeGreaterThanOrEqual(closedAt - 50);
    expect(await bob.client.getPresence(alice)).toEqual({ userId: alice, online: false, lastSeen: offline.lastSeen });
    // Bob's other device watches too, and hears the same changes.
    expect(bobLaptop.events.seen.presence.slice(laptopCount).map((e) => e.online)).toEqual([true, false]);
    bob.client.close();
    bobLaptop.client.close();
  });

  it('turns a user offline by the route TTL when their socket dies without a close', async () => {
    const bob = await registerClient(parley, nextPhone());
    const beforeAliceConnected = Date.now();
    const alice = await registerClient(parley, nextPhone());
    await bob.client.subscribePresence([alice.client.userId]);
    const closedAt = Date.now();

    swallowDisconnectsOf = alice.client.userId;
    alice.client.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(bob.events.seen.presence.filter((e) => e.userId === alice.client.userId && !e.online)).toHaveLength(0);

    clockOffset = routeTtlMs + 60_000;
    try {
      await parley.sweepExpiredItems();
      const offline = await bob.events.waitFor('presence', (e) => e.userId === alice.client.userId && !e.online);
      // Last seen at the last heartbeat (here the connect), not when the sweep noticed, a route's life later.
      expect(offline.lastSeen).toBeGreaterThanOrEqual(beforeAliceConnected);
      expect(offline.lastSeen).toBeLessThanOrEqual(closedAt);
    } finally {
      clockOffset = 0;
      swallowDisconnectsOf = undefined;
      bob.client.close();
    }
  });

  it('refuses unknown users and more than 64, and stores nothing of a refused subscription', async () => {
    const bob = await registerClient(parley, nextPhone());
    const alice = await registerClient(parley, nextPhone());
    await bob.client.subscribePresence([alice.client.userId]);
    const unknown = '00000000-0000-4000-8000-000000000000';
    const notFound = await refusal(bob.client.subscribePresence([alice.client.userId, unknown]));
    expect(notFound.code).toBe('NOT_FOUND');
    expect(notFound.details.unknownUsers).toEqual([unknown]);
    const tooMany = await refusal(bob.client.subscribePresence(Array.from({ length: 65 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`)));
    expect(tooMany.code).toBe('BAD_REQUEST');
    expect(tooMany.message).toMatch(/userIds/);
    expect((await refusal(bob.client.getPresence(unknown))).code).toBe('NOT_FOUND');
    // The earlier subscription stands: Alice's change still reaches Bob.
    alice.client.close();
    await bob.events.waitFor('presence', (e) => e.userId === alice.client.userId && !e.online);
    bob.client.close();
  });
});

describe('typing', () => {
  let alice: TestDevice;
  let aliceSocket: DeviceSocket;
  let bob: TestClient;
  let bobLaptop: TestClient;

  beforeAll(async () => {
    alice = await registerAccount(parley, nextPhone());
    bob = await registerClient(parley, nextPhone());
    bobLaptop = await linkClient(parley, bob, 'Laptop');
    aliceSocket = await connectDevice(parley, alice);
  });
  afterAll(async () => {
    await aliceSocket.close();
    bob.client.close();
    bobLaptop.client.close();
  });

  const conversation = () => bob.client.conversationWith(alice.userId);

  it('reaches every connected device of the peer, throttled, and lands in no table, queue or stream', async () => {
    for (let i = 0; i < 5; i++) aliceSocket.send({ action: 'TYPING', conversationId: conversation(), state: 'composing' });
    for (const device of [bob, bobLaptop]) {
      await device.events.waitFor('typing', (e) => e.from.userId === alice.userId && e.state === 'composing');
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Five frames within the throttle interval: one relayed, four dropped silently (no ERROR either).
    for (const device of [bob, bobLaptop]) expect(device.events.seen.typing.filter((e) => e.state === 'composing')).toHaveLength(1);
    await expect(aliceSocket.next((f) => f.type === 'ERROR', 200)).rejects.toThrow();

    await parley.drainStreams();
    const stored = await collectServerData(parley);
    expect(stored.filter(({ bytes }) => bytes.includes('composing'))).toEqual([]);
  });

  // How long a composing is shown without a refresh is timed on a fake clock in test/client/presence.test.ts.
  it('is sent by setTyping, which throttles itself', async () => {
    const sent = [bob.client.setTyping(alice.userId), bob.client.setTyping(alice.userId), bob.client.setTyping(alice.userId)];
    expect(sent).toEqual([true, false, false]);
    expect(await aliceSocket.next((f) => f.type === 'TYPING')).toMatchObject({ conversationId: conversation(), state: 'composing', from: { userId: bob.client.userId } });
  });

  it('reaches the other members’ live devices in a group, not the sender’s own', async () => {
    const groupId = randomUUID();
    const created = await call(parley, 'POST', '/v1/groups', { device: alice, body: { groupId, name: 'Typists', members: [bob.client.userId] } });
    expect(created.status).toBe(201);
    aliceSocket.send({ action: 'TYPING', conversationId: `group:${groupId}`, state: 'composing' });
    for (const device of [bob, bobLaptop]) {
      await device.events.waitFor('typing', (e) => e.conversationId === `group:${groupId}` && e.from.userId === alice.userId);
    }
    await expect(aliceSocket.next((f) => f.type === 'TYPING', 300)).rejects.toThrow();
  });

  it('refuses a conversation the caller is not in', async () => {
    const stranger = await registerAccount(parley, nextPhone());
    const answer = await request(aliceSocket, { action: 'TYPING', conversationId: bob.client.conversationWith(stranger.userId), state: 'composing' });
    expect(answer).toMatchObject({ type: 'ERROR', code: 'FORBIDDEN' });
    expect(await request(aliceSocket, { action: 'TYPING', conversationId: 'group:nope', state: 'composing' })).toMatchObject({ type: 'ERROR', code: 'FORBIDDEN' });
    expect(await request(aliceSocket, { action: 'TYPING', conversationId: conversation(), state: 'shouting' })).toMatchObject({ type: 'ERROR', code: 'BAD_REQUEST' });
  });
});

describe('privacy rules', () => {
  type Audience = 'everyone' | 'contacts' | 'nobody';
  interface Row {
    rule: string;
    owner: { lastSeen?: Audience; online?: Audience };
    viewer?: { lastSeen?: Audience };
    viewerIsContact?: boolean;
    blocked?: boolean;
    sees: { online: boolean; lastSeen: boolean };
  }
  const online: Row[] = [
    { rule: 'online shown to everyone', owner: { online: 'everyone' }, sees: { online: true, lastSeen: false } },
    { rule: 'online shown to contacts: a contact sees it', owner: { online: 'contacts' }, viewerIsContact: true, sees: { online: true, lastSeen: false } },
    { rule: 'online shown to contacts: others do not', owner: { online: 'contacts' }, sees: { online: false, lastSeen: false } },
    { rule: 'online shown to nobody', owner: { online: 'nobody' }, viewerIsContact: true, sees: { online: false, lastSeen: false } },
    { rule: 'a blocked viewer sees no online', owner: { online: 'everyone' }, blocked: true, sees: { online: false, lastSeen: false } },
  ];
  const lastSeen: Row[] = [
    { rule: 'last seen shown to everyone', owner: { lastSeen: 'everyone' }, sees: { online: false, lastSeen: true } },
    { rule: 'last seen shown to contacts: a contact sees it', owner: { lastSeen: 'contacts' }, viewerIsContact: true, sees: { online: false, lastSeen: true } },
    { rule: 'last seen shown to contacts: others do not', owner: { lastSeen: 'contacts' }, sees: { online: false, lastSeen: false } },
    { rule: 'last seen shown to nobody', owner: { lastSeen: 'nobody' }, viewerIsContact: true, sees: { online: false, lastSeen: false } },
    { rule: 'reciprocity: a viewer who hides their own last seen sees no one’s', owner: { lastSeen: 'everyone' }, viewer: { lastSeen: 'nobody' }, sees: { online: false, lastSeen: false } },
    { rule: 'reciprocity: showing it to contacts only still sees others’', owner: { lastSeen: 'everyone' }, viewer: { lastSeen: 'contacts' }, sees: { online: false, lastSeen: true } },
    { rule: 'a blocked viewer sees no last seen', owner: { lastSeen: 'everyone' }, blocked: true, sees: { online: false, lastSeen: false } },
  ];

  let viewer: TestClient;
  let onlineOwner: TestClient;
  let offlineOwner: TestClient;
  beforeAll(async () => {
    viewer = await registerClient(parley, nextPhone());
    onlineOwner = await registerClient(parley, nextPhone());
    const leaving = await registerClient(parley, nextPhone());
    leaving.client.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    offlineOwner = leaving;
  });
  afterAll(() => {
    viewer.client.close();
    onlineOwner.client.close();
  });

  async function arrange(owner: TestClient, row: Row): Promise<void> {
    await owner.client.contacts.setPrivacy({ lastSeen: 'everyone', online: 'everyone', ...row.owner });
    await viewer.client.setPrivacy({ lastSeen: 'everyone', ...row.viewer });
    await owner.client.contacts.set(row.viewerIsContact ? [viewer.client.userId] : []);
    await (row.blocked ? owner.client.block(viewer.client.userId) : owner.client.unblock(viewer.client.userId));
  }

  it.each(online)('$rule', async (row) => {
    await arrange(onlineOwner, row);
    const view = await viewer.client.getPresence(onlineOwner.client.userId);
    expect({ online: view.online, lastSeen: view.lastSeen !== undefined }).toEqual(row.sees);
  });

  it.each(lastSeen)('$rule', async (row) => {
    await arrange(offlineOwner, row);
    const view = await viewer.client.getPresence(offlineOwner.client.userId);
    expect({ online: view.online, lastSeen: view.lastSeen !== undefined }).toEqual(row.sees);
  });

  it('applies a change to live subscribers at once', async () => {
    await arrange(onlineOwner, online[0]!);
    await viewer.client.subscribePresence([onlineOwner.client.userId]);
    const count = viewer.events.seen.presence.length;
    await onlineOwner.client.setPrivacy({ online: 'nobody' });
    await viewer.events.waitFor('presence', (e) => e.userId === onlineOwner.client.userId && !e.online && viewer.events.seen.presence.indexOf(e) >= count);
    await onlineOwner.client.setPrivacy({ online: 'everyone' });
    await viewer.events.waitFor('presence', (e) => e.userId === onlineOwner.client.userId && e.online && viewer.events.seen.presence.indexOf(e) >= count);
    await viewer.client.subscribePresence([]);
  });

  const readReceipts: { rule: string; reader: boolean; sender: boolean; senderSeesRead: boolean }[] = [
    { rule: 'both send read receipts: the sender sees read', reader: true, sender: true, senderSeesRead: true },
    { rule: 'the reader turned them off: the sender does not see read', reader: false, sender: true, senderSeesRead: false },
    { rule: 'the sender turned them off: it receives none (reciprocity)', reader: true, sender: false, senderSeesRead: false },
  ];
  it.each(readReceipts)('read receipts: $rule', async ({ reader, sender, senderSeesRead }) => {
    await viewer.client.setPrivacy({ readReceipts: reader });
    await onlineOwner.client.setPrivacy({ readReceipts: sender });
    const sent = await onlineOwner.client.send(viewer.client.userId, `read receipts ${reader} ${sender}`);
    const message = await viewer.events.waitFor('message', (m) => m.msgId === sent.msgId, 10_000);
    await viewer.client.markRead(message.conversationId, message.msgId);
    await onlineOwner.events.waitFor('receipt', (r) => r.status === 'delivered' && r.msgIds.includes(sent.msgId), 10_000);
    await parley.drainStreams();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const read = onlineOwner.events.seen.receipt.filter((r) => r.status === 'read' && r.msgIds.includes(sent.msgId));
    expect(read.length > 0).toBe(senderSeesRead);
  });
});

describe('blocking', () => {
  it('accepts a blocked sender’s messages with one tick and delivers none, hides presence and typing, and unblocking releases nothing earlier', async () => {
    const alice = await registerClient(parley, nextPhone());
    const bob = await registerClient(parley, nextPhone());
    const bobLaptop = await linkClient(parley, bob, 'Laptop');
    await alice.client.send(bob.client.userId, 'before the block');
    await bob.events.waitFor('message', (m) => m.text === 'before the block', 10_000);

    await bob.client.block(alice.client.userId);
    expect(await bob.client.contacts.blocked()).toEqual([expect.objectContaining({ userId: alice.client.userId })]);
    const blocked = await alice.client.send(bob.client.userId, 'while blocked');
    expect(await alice.events.waitFor('receipt', (r) => r.status === 'sent' && r.msgIds.includes(blocked.msgId))).toBeDefined();
    await parley.drainStreams();
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const device of [bob, bobLaptop]) expect(device.events.texts()).not.toContain('while blocked');
    expect(alice.events.seen.receipt.filter((r) => r.msgIds.includes(blocked.msgId) && r.status !== 'sent')).toEqual([]);
    for (const deviceId of [1, 2]) {
      const { Items } = await parley.clients.db.send(
        new QueryCommand({ TableName: parley.resources.tables.deviceQueues, KeyConditionExpression: 'device = :d', ExpressionAttributeValues: { ':d': `${bob.client.userId}#${deviceId}` } }),
      );
      expect((Items ?? []).filter((item) => item.msgId === blocked.msgId)).toEqual([]);
    }
    // Presence: Bob is online, but Alice sees what a user who hides everything shows.
    expect(await alice.client.subscribePresence([bob.client.userId])).toEqual([{ userId: bob.client.userId, online: false }]);
    // Typing, both ways: nothing.
    bob.client.setTyping(alice.client.userId);
    alice.client.setTyping(bob.client.userId);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(alice.events.seen.typing).toEqual([]);
    expect([...bob.events.seen.typing, ...bobLaptop.events.seen.typing]).toEqual([]);

    await bob.client.unblock(alice.client.userId);
    await alice.events.waitFor('presence', (e) => e.userId === bob.client.userId && e.online);
    await alice.client.send(bob.client.userId, 'after the unblock');
    await bob.events.waitFor('message', (m) => m.text === 'after the unblock', 10_000);
    expect(bob.events.texts()).not.toContain('while blocked');
    for (const client of [alice, bob, bobLaptop]) client.client.close();
  });

  it('refuses blocking oneself or an unknown user', async () => {
    const carol = await registerClient(parley, nextPhone());
    expect((await refusal(carol.client.block(carol.client.userId))).code).toBe('BAD_REQUEST');
    expect((await refusal(carol.client.block('00000000-0000-4000-8000-000000000000'))).code).toBe('NOT_FOUND');
    expect(await carol.client.contacts.blocked()).toEqual([]);
    carol.client.close();
  });
});

describe('contacts and directory', () => {
  it('finds registered numbers, not others, and stops at the daily quota', async () => {
    const dave = await registerClient(parley, nextPhone());
    const erinPhone = nextPhone();
    const erin = await registerClient(parley, erinPhone);
    const unregistered = Array.from({ length: 499 }, (_, i) => `+4420${String(7000000 + i)}`);
    expect(await dave.client.lookup([erinPhone, ...unregistered])).toEqual([{ phoneNumber: erinPhone, userId: erin.client.userId }]);
    const rest = Array.from({ length: LOOKUPS_PER_DAY - 500 }, (_, i) => `+4421${String(7000000 + i)}`);
    expect(await dave.client.lookup(rest)).toEqual([]);
    const limited = await refusal(dave.client.lookup([erinPhone]));
    expect(limited.code).toBe('RATE_LIMITED');
    expect(limited.status).toBe(429);
    expect(limited.details.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    for (const client of [dave, erin]) client.client.close();
  });

  it('refuses malformed numbers and lists over the limits, spending no quota', async () => {
    const frank = await registerClient(parley, nextPhone());
    for (const phoneNumbers of [['0044 20 7946 0000'], [], Array.from({ length: 501 }, (_, i) => `+4422${String(7000000 + i)}`), ['+14155550100', '+14155550100']]) {
      const refused = await refusal(frank.client.lookup(phoneNumbers));
      expect(refused.code).toBe('BAD_REQUEST');
      // Numbers are never echoed (nor logged): the answer names the field only.
      for (const number of phoneNumbers) expect(refused.message).not.toContain(number);
    }
    // The whole quota is still there.
    expect(await frank.client.lookup(Array.from({ length: 500 }, (_, i) => `+4423${String(7000000 + i)}`))).toEqual([]);
    frank.client.close();
  });

  it('keeps a contact list whole, refusing unknown users with nothing stored', async () => {
    const gina = await registerClient(parley, nextPhone());
    const hank = await registerClient(parley, nextPhone());
    expect(await gina.client.contacts.set([hank.client.userId])).toEqual([hank.client.userId]);
    const refused = await refusal(gina.client.contacts.set([hank.client.userId, '00000000-0000-4000-8000-000000000000']));
    expect(refused.code).toBe('NOT_FOUND');
    expect(await gina.client.contacts.list()).toEqual([hank.client.userId]);
    expect((await call(parley, 'PUT', '/v1/privacy', { body: { online: 'nobody' } })).status).toBe(401);
    expect((await refusal(gina.client.setPrivacy({ lastSeen: 'friends' as never }))).code).toBe('BAD_REQUEST');
    for (const client of [gina, hank]) client.client.close();
  });
});
