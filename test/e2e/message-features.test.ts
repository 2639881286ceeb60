/**
 * Replies, reactions, edits, delete for everyone and disappearing messages through the local stack with
 * the client SDK: a revoked message never reaches an offline device (its queues are read to prove it, and
 * for a group message, stored once for every member device, the group's timeline),
 * a device that has it removes it, actions reach every device of both users in order, a newer client's
 * type shows as unsupported, and what may not be done is refused with a code, with nothing stored.
 */
import { randomUUID } from 'node:crypto';
import { encodeContent } from '../../client/content';
import { ParleyApiError, MessageActionError } from '../../client/errors';
import type { IncomingMessage } from '../../client/events';
import { REVOKE_WINDOW_MS } from '../../lambdas/protocol/frames';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { queuedItems } from '../support/device-queue';
import { timelineEntryOf, waitingInTimeline } from '../support/group-timeline';
import { linkClient, registerClient, reopenClient, type TestClient } from '../support/sdk-clients';
import { connectDevice, registerAccount, request } from '../support/device-client';

let parley: ParleyLocal;
/** How far the handlers' clock runs ahead of the real one: the window cases move it. */
let clockOffset = 0;

/** While set, the fanout waits for it before each batch: a REVOKE sent meanwhile overtakes the message's fan-out. */
let fanOutHeld: Promise<void> | undefined;
let releaseFanOut: (() => void) | undefined;
/** Holds the fanout until the answer is called (or the test ends). */
const holdFanOut = () => {
  fanOutHeld = new Promise((resolve) => (releaseFanOut = resolve));
  return () => {
    fanOutHeld = undefined;
    releaseFanOut?.();
  };
};

beforeAll(async () => {
  parley = await startParleyLocal({
    webSocketPort: 0,
    httpPort: 0,
    now: () => Date.now() + clockOffset,
    // Both fanouts: 1:1 records are read by `fanout`, group records by `groupFanout`.
    intercept: (id, invoke) => (id === 'fanout' || id === 'groupFanout' ? async (event: any) => (await fanOutHeld, invoke(event)) : invoke),
  });
});
afterAll(async () => {
  await parley?.stop();
});
afterEach(() => {
  clockOffset = 0;
  fanOutHeld = undefined;
  releaseFanOut?.();
});

let phoneNumbers = 0;
const nextPhone = () => `+1415555${String(8100 + phoneNumbers++).padStart(4, '0')}`;

const until = async (check: () => Promise<boolean>, timeoutMs = 5000) => {
  for (const started = Date.now(); !(await check()); ) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

const msgIdsQueuedFor = async (device: TestClient) =>
  (await queuedItems(parley, device.client.address as never)).map((item) => item.frame.msgId as string | undefined);

const ofKind = (device: TestClient, kind: IncomingMessage['kind']) => device.events.seen.message.filter((m) => m.kind === kind);

/** Alice (phone, tablet) and Bob (phone, laptop), all connected. */
async function twoUsersOnTwoDevices() {
  const alice = await registerClient(parley, nextPhone());
  const aliceTablet = await linkClient(parley, alice, 'Tablet');
  const bob = await registerClient(parley, nextPhone());
  return { alice, aliceTablet, bob, bobLaptop: await linkClient(parley, bob, 'Laptop') };
}

describe('delete for everyone', () => {
  it('drops the copies an offline device has not downloaded; a device that has it removes it', async () => {
    const { alice, aliceTablet, bob, bobLaptop } = await twoUsersOnTwoDevices();
    await alice.client.send(bob.client.userId, 'hello');
    await bob.events.waitFor('message', (m) => m.text === 'hello');
    await bobLaptop.events.waitFor('message', (m) => m.text === 'hello');
    bob.client.close();
    bobLaptop.client.close();

    const oops = await alice.client.send(bob.client.userId, 'oops, wrong chat');
    await aliceTablet.events.waitFor('message', (m) => m.msgId === oops.msgId);
    await until(async () => (await msgIdsQueuedFor(bob)).includes(oops.msgId) && (await msgIdsQueuedFor(bobLaptop)).includes(oops.msgId));
    await until(async () => !(await msgIdsQueuedFor(aliceTablet)).includes(oops.msgId));

    const revoked = await alice.client.deleteForEveryone({ author: alice.client.userId, msgId: oops.msgId });
    expect(revoked.dropped).toBe(2);
    expect(await msgIdsQueuedFor(bob)).not.toContain(oops.msgId);
    expect(await msgIdsQueuedFor(bobLaptop)).not.toContain(oops.msgId);

    // The tablet had it: it gets the delete and forgets the message (nothing left to react to).
    const deleted = await aliceTablet.events.waitFor('message', (m) => m.kind === 'delete');
    expect(deleted.deleteForEveryone).toEqual({ msgId: oops.msgId });
    await expect(aliceTablet.client.react({ author: alice.client.userId, msgId: oops.msgId }, '👍')).rejects.toMatchObject({ code: 'UNKNOWN_MESSAGE' });

    // Bob's devices come back: the delete, never the message.
    const [bobAgain, laptopAgain] = [await reopenClient(parley, bob.store), await reopenClient(parley, bobLaptop.store)];
    for (const device of [bobAgain, laptopAgain]) {
      await device.events.waitFor('message', (m) => m.kind === 'delete' && m.deleteForEveryone?.msgId === oops.msgId);
      expect(device.events.seen.message.map((m) => m.msgId)).not.toContain(oops.msgId);
      expect(device.events.seen.undecryptable).toEqual([]);
    }
    // Bob's chat list: only "hello" is unread; the revoked message no longer counts, and the delete did not.
    const chat = (await bobAgain.client.listConversations()).find((c) => c.conversationId === oops.conversationId)!;
    expect(chat.unreadCount).toBe(1);
    for (const device of [alice, aliceTablet, bobAgain, laptopAgain]) device.client.close();
  });

  it('is refused for someone else’s message, an unknown msgId and past 48 hours, and drops nothing', async () => {
    const alice = await registerClient(parley, nextPhone());
    const bob = await registerClient(parley, nextPhone());
    bob.client.close();
    const sent = await alice.client.send(bob.client.userId, 'stays');
    await until(async () => (await msgIdsQueuedFor(bob)).includes(sent.msgId));

    // Mallory, a third account, names Alice's msgId at the server: refused as if it did not exist.
    const mallory = await registerAccount(parley, nextPhone());
    const socket = await connectDevice(parley, mallory);
    const refusedForMallory = await request(socket, { action: 'REVOKE', msgId: sent.msgId });
    expect(refusedForMallory).toMatchObject({ type: 'ERROR', code: 'NOT_FOUND' });
    expect(await request(socket, { action: 'REVOKE', msgId: randomUUID() })).toMatchObject({ type: 'ERROR', code: 'NOT_FOUND' });
    expect(await request(socket, { action: 'REVOKE', msgId: 'not-a-uuid' })).toMatchObject({ type: 'ERROR', code: 'BAD_REQUEST' });
    socket.close();

    // The SDK refuses someone else's message before asking the server.
    await expect(alice.client.deleteForEveryone({ author: bob.client.userId, msgId: sent.msgId })).rejects.toMatchObject({ code: 'NOT_OWN_MESSAGE' });

    // Past the window: the server refuses (the SDK's own check is passed by a device whose clock is behind).
    clockOffset = REVOKE_WINDOW_MS + 60_000;
    const error = await (alice.client as any).connection.request({ action: 'REVOKE', msgId: sent.msgId }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParleyApiError);
    expect(error.code).toBe('REVOKE_WINDOW_PASSED');
    clockOffset = 0;
    expect(await msgIdsQueuedFor(bob)).toContain(sent.msgId);
    alice.client.close();
  });
});

describe('replies, reactions and edits', () => {
  it('reach every device of both users in order; a newer client’s type shows as unsupported', async () => {
    const { alice, aliceTablet, bob, bobLaptop } = await twoUsersOnTwoDevices();
    const question = await alice.client.send(bob.client.userId, 'lunch at 1?');
    const ref = { author: alice.client.userId, msgId: question.msgId };
    await bob.events.waitFor('message', (m) => m.msgId === question.msgId);

    const answer = await bob.client.reply(ref, 'yes!');
    await bob.client.react(ref, '👍');
    await bob.client.react(ref, '🎉');
    await alice.events.waitFor('message', (m) => m.msgId === answer.msgId);
    const edit = await alice.client.edit(ref, 'lunch at 2?');
    // A newer client's content type, sent as Alice's phone would: Bob's devices show it as unsupported.
    const poll = await (alice.client as any).outbox.send(bob.client.userId, newerContent());

    for (const device of [bob, bobLaptop, aliceTablet]) await device.events.waitFor('message', (m) => m.msgId === poll.msgId);
    for (const device of [alice, aliceTablet]) await device.events.waitFor('message', (m) => m.kind === 'reaction' && m.reaction?.emoji === '🎉');
    for (const device of [bobLaptop, aliceTablet]) await device.events.waitFor('message', (m) => m.msgId === edit.msgId);

    // Each of the four devices sees the actions in the order they were sent.
    const order = (device: TestClient) => device.events.seen.message.filter((m) => m.conversationId === question.conversationId).map((m) => m.kind + (m.reaction?.emoji ?? ''));
    expect(order(bobLaptop)).toEqual(['message', 'message', 'reaction👍', 'reaction🎉', 'edit', 'unsupported']);
    expect(order(aliceTablet)).toEqual(['message', 'message', 'reaction👍', 'reaction🎉', 'edit', 'unsupported']);
    expect(order(bob).slice(0, 1)).toEqual(['message']);
    expect(ofKind(bob, 'edit')[0]!.edit).toEqual({ msgId: question.msgId, text: 'lunch at 2?' });
    expect(ofKind(alice, 'message').find((m) => m.msgId === answer.msgId)!.replyTo).toEqual({ ...ref, excerpt: 'lunch at 1?' });
    expect(ofKind(bob, 'unsupported')[0]!.unsupported).toEqual({ type: 'poll', version: 1 });

    // Bob may not edit Alice's message, nor react to one his device does not have.
    await expect(bob.client.edit(ref, 'x')).rejects.toBeInstanceOf(MessageActionError);
    await expect(bob.client.react({ author: alice.client.userId, msgId: randomUUID() }, '👍')).rejects.toMatchObject({ code: 'UNKNOWN_MESSAGE' });
    // Actions move nobody's chat list: Bob's row counts the question and the poll, not the edit.
    const chat = (await bob.client.listConversations()).find((c) => c.conversationId === question.conversationId)!;
    expect(chat).toMatchObject({ lastMsgId: poll.msgId, unreadCount: 2 });
    for (const device of [alice, aliceTablet, bob, bobLaptop]) device.client.close();
  });
});

/** A padded content of a type no client of this version knows. */
function newerContent(): Uint8Array {
  const json = Buffer.from(JSON.stringify({ v: 1, type: 'poll', sentAt: 1, question: 'Pizza?' }));
  const padded = new Uint8Array(Math.ceil((json.length + 1) / 160) * 160);
  padded.set(json);
  padded[json.length] = 0x80;
  return padded;
}

describe('disappearing messages', () => {
  const DAY_MS = 24 * 3600 * 1000;

  it('expire in the server’s queue by the timer, and on the devices when it runs out after reading', async () => {
    let deviceClockOffset = 0;
    const deviceClock = () => Date.now() + deviceClockOffset;
    const alice = await registerClient(parley, nextPhone(), undefined, deviceClock);
    const bob = await registerClient(parley, nextPhone(), undefined, deviceClock);
    await alice.client.send(bob.client.userId, 'hi');
    await bob.events.waitFor('message', (m) => m.text === 'hi');
    await alice.client.setDisappearing(bob.client.userId, 86400);
    await bob.events.waitFor('message', (m) => m.kind === 'disappearing' && m.disappearing?.seconds === 86400);

    // Bob is offline: the queued copy expires 24 hours after it was sent, not 30 days.
    bob.client.close();
    const secret = await alice.client.send(bob.client.userId, 'gone by tomorrow');
    await until(async () => (await msgIdsQueuedFor(bob)).includes(secret.msgId));
    const item = (await queuedItems(parley, bob.client.address as never)).find((queued) => queued.frame.msgId === secret.msgId)!;
    expect(item.expiresAt).toBe(Math.ceil((secret.serverTs + DAY_MS) / 1000));
    clockOffset = DAY_MS + 1000;
    const bobLater = await reopenClient(parley, bob.store, deviceClock);
    await until(async () => bobLater.events.seen.connection.some((status) => status.state === 'online'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bobLater.events.seen.message.map((m) => m.msgId)).not.toContain(secret.msgId);
    clockOffset = 0;

    // Bob is online: the message comes with its timer and goes 24 hours after Bob read it.
    const bye = await alice.client.send(bob.client.userId, 'read me, then I go');
    const received = await bobLater.events.waitFor('message', (m) => m.msgId === bye.msgId);
    expect(received.expiresInSeconds).toBe(86400);
    deviceClockOffset = 3 * DAY_MS;
    await bobLater.client.expireMessages();
    expect(bobLater.events.seen.expired).toEqual([]);
    await bobLater.client.markRead(bye.conversationId, bye.msgId);
    deviceClockOffset += DAY_MS - 1000;
    await bobLater.client.expireMessages();
    expect(bobLater.events.seen.expired).toEqual([]);
    deviceClockOffset += 1000;
    await bobLater.client.expireMessages();
    expect(bobLater.events.seen.expired).toEqual([{ conversationId: bye.conversationId, messages: [{ author: alice.client.userId, msgId: bye.msgId }] }]);
    // The sender's own copies were read when sent: long gone on Alice's phone ("hi", sent before the timer, stays).
    await alice.client.expireMessages();
    expect(alice.events.seen.expired.flatMap((e) => e.messages.map((m) => m.msgId)).sort()).toEqual([secret.msgId, bye.msgId].sort());
    // Bad timers are refused on the device.
    await expect(alice.client.setDisappearing(bob.client.userId, 3600)).rejects.toMatchObject({ code: 'BAD_TIMER' });
    alice.client.close();
    bobLater.client.close();
  });
});

describe('in a group, and a REVOKE that overtakes the fan-out', () => {
  const DAY_MS = 24 * 3600 * 1000;
  /**
   * Alice the group's admin and Carol online; Bob offline. A group message is not queued per device: the
   * group's timeline shows what the server keeps for Bob (read directly, `waitingFor`), while his queue
   * still shows his 1:1 messages.
   */
  let alice: TestClient;
  let bob: TestClient;
  let carol: TestClient;
  let groupId: string;
  let conversationId: string;
  const chatOf = async (device: TestClient) =>
    (await device.client.listConversations()).find((c) => c.conversationId === conversationId) as { unreadCount: number; lastMsgId: string; preview?: { msgId: string } };
  const queuedCopyOf = async (device: TestClient, msgId: string) =>
    (await queuedItems(parley, device.client.address as never)).find((item) => item.frame.msgId === msgId);
  /** Whether Bob, offline with his cursor behind every group message, would still get it at SYNC. */
  const waitingFor = (msgId: string) => waitingInTimeline(parley, conversationId, msgId);
  /** Alice's group message, once Carol has it and the timeline holds it for Bob. */
  const sendToGroup = async (text: string) => {
    const sent = await alice.client.sendToGroup(groupId, text);
    await carol.events.waitFor('message', (m) => m.msgId === sent.msgId);
    await until(() => waitingFor(sent.msgId));
    return sent;
  };

  beforeAll(async () => {
    [alice, bob, carol] = [await registerClient(parley, nextPhone()), await registerClient(parley, nextPhone()), await registerClient(parley, nextPhone())];
    groupId = (await alice.client.createGroup('Plans', [bob.client.userId, carol.client.userId])).groupId;
    conversationId = `group:${groupId}`;
    await carol.events.waitFor('groupUpdate', (u) => u.groupId === groupId);
    bob.client.close();
  });
  afterAll(() => {
    for (const device of [alice, carol]) device?.client.close();
  });

  it('a 1:1 REVOKE that overtakes its message’s fan-out still drops every copy (the recipient offline, its queue read directly)', async () => {
    const direct = (device: TestClient) => device.client.listConversations().then((chats) => chats.find((c) => c.conversationId.startsWith('direct:') && c.conversationId.includes(bob.client.userId)));
    const release = holdFanOut();
    const sent = await alice.client.send(bob.client.userId, 'oops');
    // The ACK came, the fanout has not written the copy yet: the REVOKE finds nothing, its revoke record follows.
    const revoked = await alice.client.deleteForEveryone({ author: alice.client.userId, msgId: sent.msgId });
    expect(revoked.dropped).toBe(0);
    const unreadBefore = (await direct(bob))?.unreadCount ?? 0;
    release();
    await parley.drainStreams();
    expect(await queuedCopyOf(bob, sent.msgId)).toBeUndefined();
    // The revoke record, after the message's fan-out, also took it out of Bob's unread count and Alice's preview.
    expect((await direct(bob))?.unreadCount ?? 0).toBe(unreadBefore);
    expect(((await direct(alice)) as { preview?: unknown } | undefined)?.preview).toBeUndefined();
  });

  it('delete for everyone withdraws the message from the group’s timeline (no member device gets it at SYNC), the preview and the unread count', async () => {
    const kept = await sendToGroup('see you at 8');
    const oops = await sendToGroup('wrong group!');
    await until(async () => (await chatOf(carol)).preview?.msgId === oops.msgId);
    expect((await chatOf(bob)).unreadCount).toBe(2);

    const revoked = await alice.client.deleteForEveryone({ author: alice.client.userId, msgId: oops.msgId });
    // The one timeline entry, withdrawn by this REVOKE; a repeat withdraws nothing more.
    expect(revoked.dropped).toBe(1);
    expect(await waitingFor(oops.msgId)).toBe(false);
    expect(await waitingFor(kept.msgId)).toBe(true);
    expect(await (alice.client as any).connection.request({ action: 'REVOKE', msgId: oops.msgId })).toMatchObject({ dropped: 0 });
    await carol.events.waitFor('message', (m) => m.kind === 'delete' && m.deleteForEveryone?.msgId === oops.msgId);
    await parley.drainStreams();
    expect(await chatOf(carol)).toMatchObject({ unreadCount: 1 });
    expect((await chatOf(carol)).preview).toBeUndefined();
    expect((await chatOf(bob)).unreadCount).toBe(1);
  });

  it('withdraws a message whose fan-out the REVOKE overtook, once the fan-out has stored it', async () => {
    const release = holdFanOut();
    const sent = await alice.client.sendToGroup(groupId, 'gone before it lands');
    const revoked = await alice.client.deleteForEveryone({ author: alice.client.userId, msgId: sent.msgId });
    // Nothing stored yet to withdraw: the revoke record behind the message does it.
    expect(revoked.dropped).toBe(0);
    release();
    await parley.drainStreams();
    expect(await timelineEntryOf(parley, conversationId, sent.msgId)).toMatchObject({ revoked: true });
    expect(await waitingFor(sent.msgId)).toBe(false);
    expect((await chatOf(bob)).unreadCount).toBe(1);
  });

  it('refuses a REVOKE of another member’s message and past 48 hours, and drops nothing', async () => {
    const sent = await sendToGroup('mine to delete');
    const revoke = (device: TestClient) => (device.client as any).connection.request({ action: 'REVOKE', msgId: sent.msgId }).catch((e: unknown) => e);
    expect(await revoke(carol)).toMatchObject({ code: 'NOT_FOUND' });
    clockOffset = REVOKE_WINDOW_MS + 60_000;
    expect(await revoke(alice)).toMatchObject({ code: 'REVOKE_WINDOW_PASSED' });
    clockOffset = 0;
    expect(await waitingFor(sent.msgId)).toBe(true);
  });

  it('actions are no activity, a timer set by an admin makes the timeline entry expire by it, and a member’s timer is refused', async () => {
    const before = await chatOf(bob);
    const target = { author: alice.client.userId, msgId: before.lastMsgId };
    await carol.client.react(target, '👍');
    await alice.client.edit(target, 'mine to delete, or not');
    await alice.client.setDisappearing(conversationId, 86400);
    await carol.events.waitFor('message', (m) => m.kind === 'disappearing' && m.conversationId === conversationId);
    await parley.drainStreams();
    expect(await chatOf(bob)).toMatchObject({ unreadCount: before.unreadCount, lastMsgId: before.lastMsgId });

    const secret = await sendToGroup('gone by tomorrow');
    // Handed out at SYNC until the timer runs out, not for 30 days.
    expect((await timelineEntryOf(parley, conversationId, secret.msgId))!.expiresAt).toBe(Math.ceil((secret.serverTs + DAY_MS) / 1000));
    expect((await carol.events.waitFor('message', (m) => m.msgId === secret.msgId)).expiresInSeconds).toBe(86400);

    // Carol is no admin: her SDK refuses before sending, and a client that sends it anyway is refused on receipt.
    await expect(carol.client.setDisappearing(conversationId, 0)).rejects.toMatchObject({ code: 'NOT_ADMIN' });
    const forced = await (carol.client as any).groups.send(groupId, encodeContent({ disappearing: { seconds: 0 }, sentAt: Date.now() }), { control: true });
    const refused = await alice.events.waitFor('undecryptable', (u) => u.msgId === forced.msgId);
    expect(refused.reason).toBe('refused-action');
    const after = await alice.client.sendToGroup(groupId, 'still timed');
    expect((await carol.events.waitFor('message', (m) => m.msgId === after.msgId)).expiresInSeconds).toBe(86400);
  });

  it('Bob comes back: only the messages nobody revoked, and the deletes', async () => {
    const bobAgain = await reopenClient(parley, bob.store);
    // The two messages Alice deleted, as Carol saw the deletes.
    const deleted = carol.events.seen.message.filter((m) => m.kind === 'delete' && m.conversationId === conversationId).map((m) => m.deleteForEveryone!.msgId);
    expect(deleted).toHaveLength(2);
    await bobAgain.events.waitFor('message', (m) => m.text === 'still timed', 15_000);
    const seen = bobAgain.events.seen.message;
    for (const msgId of deleted) expect(seen.map((m) => m.msgId)).not.toContain(msgId);
    const groupDeletes = seen.filter((m) => m.kind === 'delete' && m.conversationId === conversationId);
    expect(groupDeletes.map((m) => m.deleteForEveryone!.msgId).sort()).toEqual([...deleted].sort());
    expect(bobAgain.events.seen.undecryptable.filter((u) => u.reason !== 'refused-action')).toEqual([]);
    bobAgain.client.close();
  });
});
