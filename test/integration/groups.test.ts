/**
 * Groups on the local stack: membership and admins through the HTTP API, and every change reaching every
 * member's devices as an ordered GROUP_UPDATE in the group's conversation.
 */
import { randomUUID } from 'node:crypto';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import type { DeviceCredentials } from '../../lambdas/protocol/credentials';
import { MAX_CIPHERTEXT_CHARS } from '../../lambdas/protocol/frames';
import { METRIC } from '../../lambdas/runtime/metrics';
import { WATERMARK_RECHECK_MS } from '../../lambdas/fanout/group-receipts';
import { call, connectDevice, linkDevice, registerAccount, request, type DeviceSocket } from '../support/device-client';
import { syncQueue } from '../support/sync-queue';
import { readStream, type StreamedRecord } from '../support/message-stream';

let parley: ParleyLocal;
let alice: DeviceCredentials;
let aliceTablet: DeviceCredentials;
let bob: DeviceCredentials;
let carol: DeviceCredentials;
let dave: DeviceCredentials;

/**
 * While armed, the stack's reads of `groupDelivery` by BatchGetItem wait until `armed` of them are under
 * way (so that concurrent acknowledgements all read before any writes), and its device cursor writes are counted.
 */
const groupDeliveryWatch = { armed: 0, waiting: [] as (() => void)[], cursorWrites: 0, heldPositionReads: [] as HeldRead[], groupItemReads: 0, watermarkRequests: 0, markWrites: 0, killNextCount: false };
/** How far ahead of the real clock the handlers' clock runs. */
let clockAhead = 0;

/** One read held back: `reached` once it is done, its answer given once `open` is called. */
interface HeldRead {
  readonly reached: Promise<void>;
  readonly opened: Promise<void>;
  arrive(): void;
  open(): void;
}

/** Holds the answer of the next strongly consistent read of a group's member positions (the watermark's recomputation) not held yet. */
function holdPositionRead(): HeldRead {
  let arrive!: () => void;
  let open!: () => void;
  const reached = new Promise<void>((resolve) => (arrive = resolve));
  const opened = new Promise<void>((resolve) => (open = resolve));
  const held = { reached, opened, arrive, open };
  groupDeliveryWatch.heldPositionReads.push(held);
  return held;
}
const watchGroupDelivery = <T extends object>(client: T): T => {
  if (client.constructor.name !== 'DynamoDBClient') return client;
  (client as unknown as { middlewareStack: { add(middleware: unknown, options: unknown): void } }).middlewareStack.add(
    (next: (args: any) => Promise<any>, context: { commandName?: string }) => async (args: any) => {
      const table = parley.resources.tables.groupDelivery;
      const watch = groupDeliveryWatch;
      if (watch.armed && context.commandName === 'UpdateItemCommand' && args.input.TableName === table && args.input.ExpressionAttributeNames?.['#cursor']) watch.cursorWrites++;
      if (context.commandName === 'GetItemCommand' && args.input.TableName === parley.resources.tables.groups) watch.groupItemReads++;
      if (args.input.TableName === table && JSON.stringify(args.input.Key ?? args.input.Item ?? {}).includes('#everyone')) watch.watermarkRequests++;
      // A recomputation's mark of a member it counted (a joining member's is in its position's write).
      if (args.input.TableName === table && /^SET #counted = /.test(args.input.UpdateExpression ?? '')) watch.markWrites++;
      if (watch.killNextCount && context.commandName === 'UpdateItemCommand' && args.input.TableName === table && /ADD atMin/.test(args.input.UpdateExpression ?? '')) {
        // The invocation dies between a member's cursor write and its count out of the watermark.
        watch.killNextCount = false;
        throw new Error('killed between the cursor write and the count');
      }
      if (watch.heldPositionReads.length && context.commandName === 'QueryCommand' && args.input.TableName === table && args.input.ConsistentRead) {
        const held = watch.heldPositionReads.shift()!;
        // The members' positions are read; the answer waits: what is written meanwhile is not in it.
        const answer = await next(args);
        held.arrive();
        await held.opened;
        return answer;
      }
      if (watch.armed && context.commandName === 'BatchGetItemCommand' && args.input.RequestItems?.[table]) {
        const all = new Promise<void>((resolve) => watch.waiting.push(resolve));
        if (watch.waiting.length >= watch.armed) watch.waiting.forEach((resolve) => resolve());
        await all;
      }
      return next(args);
    },
    { step: 'initialize', name: 'watchGroupDelivery' },
  );
  return client;
};

beforeAll(async () => {
  parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0, instrumentClients: watchGroupDelivery, now: () => Date.now() + clockAhead });
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

describe('group messages', () => {
  let groupId: string;
  /** The group's version the test's senders encrypt for: 1 after its creation, up one per change. */
  let groupVersion = 1;
  const conversation = () => `group:${groupId}`;
  const groupSend = (socket: DeviceSocket, seq: number, ciphertext = Buffer.from(`sender-key message ${seq}`).toString('base64')) => {
    const frame = { action: 'GROUP_SEND', requestId: randomUUID(), msgId: randomUUID(), conversationId: conversation(), seq, groupVersion, ciphertext };
    socket.send(frame);
    return socket.next((f) => f.requestId === frame.requestId).then((answer) => ({ frame, answer }));
  };
  const pushesOf = async (device: DeviceCredentials) =>
    (await updatesAndPushes(device)).filter((f) => f.type === 'PUSH');
  async function updatesAndPushes(device: DeviceCredentials) {
    await parley.drainStreams();
    const socket = await connectDevice(parley, device);
    const frames = (await syncQueue(socket)).filter((f) => f.conversationId === conversation());
    await socket.close();
    return frames;
  }

  beforeAll(async () => {
    groupId = randomUUID();
    await call(parley, 'POST', '/v1/groups', { device: alice, body: { groupId, name: 'Family', members: [bob.userId, carol.userId] } });
  });

  it('delivers one Sender-Key ciphertext to every member device but the sender’s, live and queued', async () => {
    const [phone, liveBob] = await Promise.all([connectDevice(parley, alice), connectDevice(parley, bob)]);
    const { frame, answer } = await groupSend(phone, 1);
    expect(answer).toMatchObject({ type: 'ACK', msgId: frame.msgId, serverTs: expect.any(Number) });
    const pushed = await liveBob.next((f) => f.type === 'PUSH' && f.msgId === frame.msgId);
    expect(pushed).toMatchObject({
      conversationId: conversation(),
      from: { userId: alice.userId, deviceId: alice.deviceId },
      seq: 1,
      serverTs: answer.serverTs,
      envelope: { type: 'senderKey', ciphertext: frame.ciphertext },
    });
    await Promise.all([phone.close(), liveBob.close()]);
    // At SYNC every device gets the PUSH as it was pushed live: the timeline keeps it short, and whole again when read.
    for (const device of [aliceTablet, bob, carol]) expect(await pushesOf(device)).toEqual([pushed]);
    expect(await pushesOf(alice)).toEqual([]);
    expect(await pushesOf(dave)).toEqual([]);
  });

  it('puts the group’s records on the groups’ stream, keyed by its conversation, and none on the 1:1 conversations’ stream', async () => {
    const [onGroupStream, onOneToOneStream] = await Promise.all([
      readStream(parley, parley.resources.streams.groupMessages),
      readStream(parley, parley.resources.streams.messages),
    ]);
    const kindsOf = (records: StreamedRecord[]) => records.filter((r) => r.partitionKey === conversation()).map((r) => r.data.kind);
    // Its creation (a group change) and the message sent above, in the order they were put.
    expect(kindsOf(onGroupStream)).toEqual(['groupChange', 'groupMessage']);
    expect(onGroupStream.every((r) => r.partitionKey.startsWith('group:'))).toBe(true);
    expect(onOneToOneStream.filter((r) => r.partitionKey.startsWith('group:'))).toEqual([]);
    // Its consumer counts them under its own name, so a dashboard tells the streams' failures apart.
    await parley.drainStreams();
    expect(parley.metrics.total(METRIC.streamRecords, { consumer: 'groupFanout' })).toBeGreaterThanOrEqual(2);
  });

  it('refuses a non-member, a bad conversation and an oversized ciphertext, storing nothing', async () => {
    const outsider = await connectDevice(parley, dave);
    const { frame, answer } = await groupSend(outsider, 1);
    expect(answer).toMatchObject({ type: 'ERROR', code: 'FORBIDDEN', action: 'GROUP_SEND' });
    outsider.send({ action: 'GROUP_SEND', requestId: 'x', msgId: randomUUID(), conversationId: `direct:${alice.userId}:${dave.userId}`, seq: 1, groupVersion: 1, ciphertext: 'AAAA' });
    expect(await outsider.next((f) => f.requestId === 'x')).toMatchObject({ type: 'ERROR', code: 'BAD_REQUEST' });
    // A group that does not exist is refused as one the sender is not in.
    outsider.send({ action: 'GROUP_SEND', requestId: 'y', msgId: randomUUID(), conversationId: `group:${randomUUID()}`, seq: 1, groupVersion: 1, ciphertext: 'AAAA' });
    expect(await outsider.next((f) => f.requestId === 'y')).toMatchObject({ type: 'ERROR', code: 'FORBIDDEN' });
    await outsider.close();
    const member = await connectDevice(parley, carol);
    const atLimit = await groupSend(member, 2, 'A'.repeat(MAX_CIPHERTEXT_CHARS));
    expect(atLimit.answer.type).toBe('ACK');
    const tooLarge = await groupSend(member, 3, 'A'.repeat(MAX_CIPHERTEXT_CHARS + 4));
    expect(tooLarge.answer).toMatchObject({ type: 'ERROR', code: 'BAD_REQUEST' });
    await member.close();
    const bobs = (await pushesOf(bob)).map((p) => p.msgId);
    expect(bobs).toContain(atLimit.frame.msgId);
    expect(bobs).not.toContain(frame.msgId);
    expect(bobs).not.toContain(tooLarge.frame.msgId);
  });

  it('gives a removed member nothing sent after the removal, and a new member nothing from before', async () => {
    const phone = await connectDevice(parley, alice);
    const before = await groupSend(phone, 4);
    await call(parley, 'POST', `/v1/groups/${groupId}/members`, { device: alice, body: { remove: [bob.userId], add: [dave.userId] } });
    // A sender that missed the change is refused, so that nobody is left without its Sender Key.
    const stale = await groupSend(phone, 5);
    expect(stale.answer).toMatchObject({ type: 'ERROR', code: 'STALE_GROUP', version: 2 });
    groupVersion = 2;
    const after = await groupSend(phone, 6);
    await phone.close();
    const bobs = (await pushesOf(bob)).map((p) => p.msgId);
    expect(bobs).toContain(before.frame.msgId);
    expect(bobs).not.toContain(after.frame.msgId);
    expect((await pushesOf(dave)).map((p) => p.msgId)).toEqual([after.frame.msgId]);
    const removed = await connectDevice(parley, bob);
    expect((await groupSend(removed, 1)).answer).toMatchObject({ type: 'ERROR', code: 'FORBIDDEN' });
    await removed.close();
  });

  it('shows every member the same order when members send at once', async () => {
    const senders = await Promise.all([alice, carol, dave].map((device) => connectDevice(parley, device)));
    const sent = (
      await Promise.all(
        senders.map(async (socket) => {
          const ids: string[] = [];
          for (let seq = 10; seq < 20; seq++) ids.push((await groupSend(socket, seq)).frame.msgId);
          return ids;
        }),
      )
    ).flat();
    await Promise.all(senders.map((socket) => socket.close()));
    const orders = await Promise.all(
      [aliceTablet, carol, dave].map(async (device) => (await pushesOf(device)).map((p) => p.msgId).filter((id) => sent.includes(id))),
    );
    // Each member sees its own messages too, except those it sent from the same device.
    const shared = (order: string[]) => order.filter((id) => orders.every((o) => o.includes(id)));
    expect(shared(orders[1]!)).toEqual(shared(orders[0]!));
    expect(shared(orders[2]!)).toEqual(shared(orders[0]!));
    expect(orders[0]).toHaveLength(30);
  });

  it('hands a group message out at every SYNC until the device acknowledges its cursor, which only moves forward', async () => {
    const phone = await connectDevice(parley, alice);
    const sent = [(await groupSend(phone, 30)).frame.msgId, (await groupSend(phone, 31)).frame.msgId];
    await phone.close();
    const first = (await pushesOf(carol)).filter((p) => sent.includes(p.msgId));
    expect(first.map((p) => p.msgId)).toEqual(sent);
    const socket = await connectDevice(parley, carol);
    const acknowledge = (cursor: string) => {
      socket.send({ action: 'DELIVERED', requestId: cursor, groups: [{ conversationId: conversation(), cursor }] });
      return socket.next((f) => f.requestId === cursor);
    };
    expect(await acknowledge(first[0]!.cursor)).toMatchObject({ type: 'DELIVERED_ACK' });
    await socket.close();
    expect((await pushesOf(carol)).map((p) => p.msgId)).toEqual([sent[1]]);
    const again = await connectDevice(parley, carol);
    // With the chat-list preview of the message at the cursor: stored once, and a repeat names it ignored.
    const preview = Buffer.from(randomUUID()).toString('base64');
    again.send({ action: 'DELIVERED', requestId: 'b', groups: [{ conversationId: conversation(), cursor: first[1]!.cursor, ciphertext: preview }] });
    expect(await again.next((f) => f.requestId === 'b')).not.toHaveProperty('ignoredPreviews');
    const row = (await call(parley, 'GET', '/v1/conversations', { device: carol })).body.conversations.find((c: any) => c.conversationId === conversation());
    expect(row).toMatchObject({ preview: { msgId: sent[1], ciphertext: preview } });
    again.send({ action: 'DELIVERED', requestId: 'b2', groups: [{ conversationId: conversation(), cursor: first[1]!.cursor, ciphertext: preview }] });
    expect(await again.next((f) => f.requestId === 'b2')).toMatchObject({ ignoredPreviews: [sent[1]] });
    // An older cursor after a newer one changes nothing.
    again.send({ action: 'DELIVERED', requestId: 'a', groups: [{ conversationId: conversation(), cursor: first[0]!.cursor }] });
    await again.next((f) => f.requestId === 'a');
    await again.close();
    expect(await pushesOf(carol)).toEqual([]);
    // Other devices keep their own cursors.
    expect((await pushesOf(aliceTablet)).map((p) => p.msgId)).toEqual(expect.arrayContaining(sent));
  });

  it('refuses a DELIVERED that acknowledges nothing, or a cursor that is not a group PUSH cursor, with the reason', async () => {
    const socket = await connectDevice(parley, carol);
    const refused = async (frame: object) => {
      const requestId = randomUUID();
      socket.send({ action: 'DELIVERED', requestId, ...frame });
      return socket.next((f) => f.requestId === requestId);
    };
    expect(await refused({})).toMatchObject({ type: 'ERROR', code: 'BAD_REQUEST' });
    expect(await refused({ groups: [{ conversationId: conversation(), cursor: 'latest' }] })).toMatchObject({ type: 'ERROR', code: 'BAD_REQUEST' });
    expect(await refused({ groups: [{ conversationId: `direct:${alice.userId}:${carol.userId}`, cursor: `${'1'.repeat(13)}#${randomUUID()}` }] })).toMatchObject({ type: 'ERROR', code: 'BAD_REQUEST' });
    const twice = { conversationId: conversation(), cursor: `${'1'.repeat(13)}#${randomUUID()}` };
    expect(await refused({ groups: [twice, twice] })).toMatchObject({ type: 'ERROR', code: 'BAD_REQUEST' });
    await socket.close();
  });

  it('takes a group acknowledgement with the next SYNC: its page starts after it, its preview is stored, and a repeat changes nothing', async () => {
    const phone = await connectDevice(parley, alice);
    const sent = [(await groupSend(phone, 45)).frame.msgId, (await groupSend(phone, 46)).frame.msgId];
    await phone.close();
    await parley.drainStreams();
    const socket = await connectDevice(parley, carol);
    const sync = async (groups?: object[]) => {
      const answer = await request(socket, { action: 'SYNC', ...(groups ? { groups } : {}) });
      const pushes = answer.frames.filter((f: any) => f.type === 'PUSH' && sent.includes(f.msgId));
      return { answer, msgIds: pushes.map((p: any) => p.msgId), cursors: pushes.map((p: any) => p.cursor) };
    };
    const first = await sync();
    expect(first.msgIds).toEqual(sent);
    const preview = Buffer.from(randomUUID()).toString('base64');
    const acknowledgeFirst = [{ conversationId: conversation(), cursor: first.cursors[0], ciphertext: preview }];
    const second = await sync(acknowledgeFirst);
    expect(second.answer).toMatchObject({ type: 'QUEUE_EMPTY' });
    expect(second.answer).not.toHaveProperty('ignoredPreviews');
    expect(second.msgIds).toEqual([sent[1]]);
    const row = (await call(parley, 'GET', '/v1/conversations', { device: carol })).body.conversations.find((c: any) => c.conversationId === conversation());
    expect(row).toMatchObject({ preview: { msgId: sent[0], ciphertext: preview } });
    // The same SYNC again (a retry): the cursor stays, the page is the same, the preview is named as not stored.
    const repeated = await sync(acknowledgeFirst);
    expect(repeated.msgIds).toEqual([sent[1]]);
    expect(repeated.answer).toMatchObject({ ignoredPreviews: [sent[0]] });
    expect((await sync([{ conversationId: conversation(), cursor: first.cursors[1] }])).msgIds).toEqual([]);
    await socket.close();
    expect((await pushesOf(carol)).filter((p) => sent.includes(p.msgId))).toEqual([]);
  });

  it('refuses a SYNC whose group acknowledgement is malformed, whole, moving no cursor', async () => {
    const phone = await connectDevice(parley, alice);
    const { msgId } = (await groupSend(phone, 47)).frame;
    await phone.close();
    await parley.drainStreams();
    const socket = await connectDevice(parley, carol);
    const push = (await syncQueue(socket)).find((f) => f.type === 'PUSH' && f.msgId === msgId);
    const valid = { conversationId: conversation(), cursor: push.cursor };
    for (const groups of [[valid, valid], [{ ...valid, cursor: 'latest' }], [{ ...valid, conversationId: `direct:${alice.userId}:${carol.userId}` }], []]) {
      expect(await request(socket, { action: 'SYNC', groups })).toMatchObject({ type: 'ERROR', code: 'BAD_REQUEST' });
    }
    expect((await syncQueue(socket)).map((f) => f.msgId)).toContain(msgId);
    await socket.close();
  });

  it('hands out at SYNC no message past its expiresInSeconds nor one withdrawn by REVOKE, and a cursor moves over both', async () => {
    const phone = await connectDevice(parley, alice);
    const timed = { ...(await groupSend(phone, 50)).frame };
    phone.send({ action: 'GROUP_SEND', requestId: 'timed', msgId: randomUUID(), conversationId: conversation(), seq: 51, groupVersion, ciphertext: 'AAAA', expiresInSeconds: 1 });
    const expiring = await phone.next((f) => f.requestId === 'timed');
    const withdrawn = (await groupSend(phone, 52)).frame.msgId;
    phone.send({ action: 'REVOKE', requestId: 'revoke', msgId: withdrawn });
    expect(await phone.next((f) => f.requestId === 'revoke')).toMatchObject({ type: 'REVOKE_ACK', msgId: withdrawn });
    const control = { action: 'GROUP_SEND', requestId: 'control', msgId: randomUUID(), conversationId: conversation(), seq: 53, groupVersion, ciphertext: 'AAAA', control: true };
    phone.send(control);
    await phone.next((f) => f.requestId === 'control');
    await phone.close();
    // The timer's second runs out (its expiry is rounded up to the next second).
    await new Promise((resolve) => setTimeout(resolve, Math.ceil((expiring.serverTs + 1000) / 1000) * 1000 - Date.now() + 50));
    const handed = await pushesOf(dave);
    const msgIds = handed.map((p) => p.msgId);
    expect(msgIds).toEqual(expect.arrayContaining([timed.msgId, control.msgId]));
    expect(msgIds).not.toContain(withdrawn);
    expect(msgIds).not.toContain(expiring.msgId);
    // The action is handed out like any message; acknowledging the newest moves the cursor over all of them.
    const socket = await connectDevice(parley, dave);
    socket.send({ action: 'DELIVERED', requestId: 'all', groups: [{ conversationId: conversation(), cursor: handed.at(-1)!.cursor }] });
    expect(await socket.next((f) => f.requestId === 'all')).toMatchObject({ type: 'DELIVERED_ACK' });
    await socket.close();
    expect(await pushesOf(dave)).toEqual([]);
  });

  it('gives a newly linked device nothing sent before it was linked', async () => {
    const phone = await connectDevice(parley, alice);
    const before = (await groupSend(phone, 40)).frame.msgId;
    await parley.drainStreams();
    const carolLaptop = await linkDevice(parley, carol, 'Laptop');
    const after = (await groupSend(phone, 41)).frame.msgId;
    await phone.close();
    const laptops = (await pushesOf(carolLaptop)).map((p) => p.msgId);
    expect(laptops).toEqual([after]);
    expect(laptops).not.toContain(before);
  });
});

/** A new group of Alice (its admin), Bob and Carol, its creation delivered to every member device. */
async function aliceBobAndCarol(name: string) {
  const groupId = randomUUID();
  await call(parley, 'POST', '/v1/groups', { device: alice, body: { groupId, name, members: [bob.userId, carol.userId] } });
  await parley.drainStreams();
  return { groupId, conversationId: `group:${groupId}` };
}

/** The device connects and sends the group one message, fanned out before this answers its socket and msgId. */
async function sendToGroup(device: DeviceCredentials, conversationId: string): Promise<{ socket: DeviceSocket; msgId: string }> {
  const socket = await connectDevice(parley, device);
  const msgId = randomUUID();
  socket.send({ action: 'GROUP_SEND', requestId: 'm', msgId, conversationId, seq: 1, groupVersion: 1, ciphertext: 'AAAA' });
  expect(await socket.next((f) => f.requestId === 'm')).toMatchObject({ type: 'ACK' });
  await parley.drainStreams();
  return { socket, msgId };
}

/** The device takes the group message at SYNC and acknowledges it by its cursor; the ticks that follow are handled. */
async function acknowledgeGroupMessage(device: DeviceCredentials, conversationId: string, msgId: string) {
  const socket = await connectDevice(parley, device);
  const push = (await syncQueue(socket)).find((f) => f.type === 'PUSH' && f.msgId === msgId);
  socket.send({ action: 'DELIVERED', requestId: 'd', groups: [{ conversationId, cursor: push.cursor }] });
  await socket.next((f) => f.requestId === 'd');
  await socket.close();
  await parley.drainStreams();
}

describe('group receipts', () => {
  it('gives the sender one "delivered" and one "read" tick when every member has the message, and the detail on request', async () => {
    const groupId = randomUUID();
    const conversationId = `group:${groupId}`;
    await call(parley, 'POST', '/v1/groups', { device: alice, body: { groupId, name: 'Ticks', members: [bob.userId, carol.userId] } });
    const bobLaptop = await linkDevice(parley, bob, 'Laptop');
    const phone = await connectDevice(parley, alice);
    const msgId = randomUUID();
    phone.send({ action: 'GROUP_SEND', requestId: 'm', msgId, conversationId, seq: 1, groupVersion: 1, ciphertext: 'AAAA' });
    const ack = await phone.next((f) => f.requestId === 'm');
    expect(ack).toMatchObject({ type: 'ACK' });
    await parley.drainStreams();
    const act = async (device: DeviceCredentials, frame: object) => {
      const socket = await connectDevice(parley, device);
      socket.send({ ...frame, requestId: 'r' });
      const answer = await socket.next((f) => f.requestId === 'r');
      await socket.close();
      await parley.drainStreams();
      return answer;
    };
    const ticks = () => call(parley, 'GET', `/v1/groups/${groupId}/messages/${msgId}/receipts`, { device: alice });

    // A group message is acknowledged by its cursor in the group (the PUSH's `cursor`), not by msgId.
    const pushed = async (device: DeviceCredentials) => {
      const socket = await connectDevice(parley, device);
      const push = (await syncQueue(socket)).find((f) => f.type === 'PUSH' && f.msgId === msgId);
      await socket.close();
      return push;
    };
    const { cursor } = await pushed(bob);
    const delivered = (device: DeviceCredentials) => act(device, { action: 'DELIVERED', groups: [{ conversationId, cursor }] });
    expect(await delivered(bob)).toMatchObject({ type: 'DELIVERED_ACK', cursors: [] });
    expect(await pushed(bob)).toBeUndefined();
    expect((await ticks()).body).toEqual({ msgId, recipients: 2, delivered: [bob.userId], read: [] });
    await expect(phone.next((f) => f.type === 'RECEIPT', 300)).rejects.toThrow();
    // A member counts once, however many of its devices have the message.
    await delivered(bobLaptop);
    expect((await ticks()).body).toEqual({ msgId, recipients: 2, delivered: [bob.userId], read: [] });
    await expect(phone.next((f) => f.type === 'RECEIPT', 300)).rejects.toThrow();

    await delivered(carol);
    const everyone = await phone.next((f) => f.type === 'RECEIPT' && f.status === 'delivered');
    expect(everyone).toMatchObject({ conversationId, msgIds: [msgId], everyone: true });

    expect(await act(bob, { action: 'READ', conversationId, upToMsgId: msgId })).toMatchObject({ type: 'READ_ACK' });
    await act(carol, { action: 'READ', conversationId, upToMsgId: msgId });
    expect(await phone.next((f) => f.type === 'RECEIPT' && f.status === 'read')).toMatchObject({ msgIds: [msgId], everyone: true });
    // Once each: a member acknowledging again changes nothing.
    await delivered(carol);
    await expect(phone.next((f) => f.type === 'RECEIPT', 300)).rejects.toThrow();
    await phone.close();

    const detail = (await ticks()).body;
    expect(detail.delivered.sort()).toEqual([bob.userId, carol.userId].sort());
    expect(detail.read.sort()).toEqual([bob.userId, carol.userId].sort());
    expect(detail).toMatchObject({ deliveredToAllAt: expect.any(Number), readByAllAt: expect.any(Number) });
    expect((await call(parley, 'GET', `/v1/groups/${groupId}/messages/${msgId}/receipts`, { device: bob })).status).toBe(404);
    expect(await act(dave, { action: 'READ', conversationId, upToMsgId: msgId })).toMatchObject({ type: 'ERROR', code: 'FORBIDDEN' });
  });

  it('gives the "delivered to everyone" tick when the last member acknowledges with its next SYNC, not when it was handed the message', async () => {
    const groupId = randomUUID();
    const conversationId = `group:${groupId}`;
    await call(parley, 'POST', '/v1/groups', { device: alice, body: { groupId, name: 'Later ticks', members: [dave.userId] } });
    await parley.drainStreams();
    const { socket: phone, msgId } = await sendToGroup(alice, conversationId);
    // Dave's return: one SYNC and its answer. The message is handed out, not yet acknowledged: no tick.
    const returned = await connectDevice(parley, dave);
    const push = (await syncQueue(returned)).find((f) => f.type === 'PUSH' && f.msgId === msgId);
    await returned.close();
    await expect(phone.next((f) => f.type === 'RECEIPT', 300)).rejects.toThrow();
    // His next return's SYNC carries the acknowledgement: the tick comes with it.
    const next = await connectDevice(parley, dave);
    const page = await request(next, { action: 'SYNC', groups: [{ conversationId, cursor: push.cursor }] });
    expect(page).toMatchObject({ type: 'QUEUE_EMPTY' });
    expect(page.frames.filter((f: any) => f.msgId === msgId)).toEqual([]);
    expect(await phone.next((f) => f.type === 'RECEIPT' && f.status === 'delivered')).toMatchObject({ conversationId, msgIds: [msgId], everyone: true, by: { userId: dave.userId } });
    await next.close();
    await phone.close();
  });

  it('moves a member once, with one write per device, when two of its devices acknowledge at once', async () => {
    const { conversationId } = await aliceBobAndCarol('Two devices');
    const { socket: laptop, msgId } = await sendToGroup(bob, conversationId);
    await acknowledgeGroupMessage(carol, conversationId, msgId);
    // Alice is the last member without it: her phone and tablet both read where she stands before either writes.
    const devices = await Promise.all([alice, aliceTablet].map((device) => connectDevice(parley, device)));
    const cursors = await Promise.all(devices.map(async (socket) => (await syncQueue(socket)).find((f) => f.msgId === msgId).cursor));
    Object.assign(groupDeliveryWatch, { armed: 2, waiting: [], cursorWrites: 0 });
    try {
      devices.forEach((socket, i) => socket.send({ action: 'DELIVERED', requestId: 'd', groups: [{ conversationId, cursor: cursors[i] }] }));
      await Promise.all(devices.map((socket) => socket.next((f) => f.requestId === 'd')));
      // One write each: the second device's does not fail on the first's move of the member and write again.
      expect(groupDeliveryWatch.cursorWrites).toBe(2);
    } finally {
      groupDeliveryWatch.armed = 0;
    }
    await parley.drainStreams();
    expect(await laptop.next((f) => f.type === 'RECEIPT' && f.status === 'delivered')).toMatchObject({ msgIds: [msgId], everyone: true, by: { userId: alice.userId } });
    await expect(laptop.next((f) => f.type === 'RECEIPT', 300)).rejects.toThrow();
    await Promise.all([laptop, ...devices].map((socket) => socket.close()));
  });

  it('counts at the new watermark no member that moved past it while the watermark was computed', async () => {
    const { conversationId } = await aliceBobAndCarol('Moving on');
    const phone = await connectDevice(parley, alice);
    let seq = 0;
    const send = async () => {
      const msgId = randomUUID();
      phone.send({ action: 'GROUP_SEND', requestId: msgId, msgId, conversationId, seq: ++seq, groupVersion: 1, ciphertext: 'AAAA' });
      expect(await phone.next((f) => f.requestId === msgId)).toMatchObject({ type: 'ACK' });
      await parley.drainStreams();
      return msgId;
    };
    const everyoneHas = (msgId: string, which: string) =>
      phone.next((f) => f.type === 'RECEIPT' && f.status === 'delivered' && f.everyone && f.msgIds.includes(msgId), 5000).catch((error) => {
        throw new Error(`no "delivered to everyone" of the ${which} message: ${error.message}`);
      });
    const first = await send();
    await acknowledgeGroupMessage(bob, conversationId, first);
    await acknowledgeGroupMessage(carol, conversationId, first);
    await everyoneHas(first, 'first');
    const second = await send();
    await acknowledgeGroupMessage(bob, conversationId, second);
    // Carol is the last at the first message: her acknowledgement computes the watermark again, and
    // Alice moves on to her third message while the positions it is computed from are read.
    const carolDevice = await connectDevice(parley, carol);
    const { cursor } = (await syncQueue(carolDevice)).find((f) => f.type === 'PUSH' && f.msgId === second);
    const positions = holdPositionRead();
    carolDevice.send({ action: 'DELIVERED', requestId: 'd', groups: [{ conversationId, cursor }] });
    await positions.reached;
    const third = await send();
    positions.open();
    await carolDevice.next((f) => f.requestId === 'd');
    await carolDevice.close();
    await parley.drainStreams();
    await everyoneHas(second, 'second');
    // Alice stands at her third message, past the watermark (the second): Bob and Carol are the last two there.
    await acknowledgeGroupMessage(bob, conversationId, third);
    await acknowledgeGroupMessage(carol, conversationId, third);
    expect(await everyoneHas(third, 'third')).toMatchObject({ conversationId, msgIds: [third], everyone: true });
    await phone.close();
  });

  it('lets a member past the watermark move on without a request to it: its item says the watermark did not count it there', async () => {
    const { conversationId } = await aliceBobAndCarol('Past the watermark');
    const marksBefore = groupDeliveryWatch.markWrites;
    const first = await sendToGroup(alice, conversationId);
    await first.socket.close();
    // The first watermark, computed by the message's fan-out, stands at the creation: Bob and Carol were
    // marked counted there as they joined, so it writes no mark of its own.
    expect(groupDeliveryWatch.markWrites - marksBefore).toBe(0);
    // Bob stood at the watermark (the group's creation, with Carol): counted there, he counts himself off it.
    let before = groupDeliveryWatch.watermarkRequests;
    await acknowledgeGroupMessage(bob, conversationId, first.msgId);
    expect(groupDeliveryWatch.watermarkRequests - before).toBe(1);
    const second = await sendToGroup(alice, conversationId);
    await second.socket.close();
    // Past it now (Carol holds it at the creation): his next acknowledgement neither reads nor writes it.
    before = groupDeliveryWatch.watermarkRequests;
    await acknowledgeGroupMessage(bob, conversationId, second.msgId);
    expect(groupDeliveryWatch.watermarkRequests - before).toBe(0);
  });

  it('ticks a message whose last member died between its cursor write and its count, once the watermark has stood too long', async () => {
    const { conversationId } = await aliceBobAndCarol('Died midway');
    const { socket: phone, msgId } = await sendToGroup(alice, conversationId);
    await acknowledgeGroupMessage(bob, conversationId, msgId);
    const carolDevice = await connectDevice(parley, carol);
    const { cursor } = (await syncQueue(carolDevice)).find((f) => f.type === 'PUSH' && f.msgId === msgId);
    groupDeliveryWatch.killNextCount = true;
    carolDevice.send({ action: 'DELIVERED', requestId: 'killed', groups: [{ conversationId, cursor }] });
    expect(await carolDevice.next((f) => f.requestId === 'killed')).toMatchObject({ type: 'ERROR' });
    expect(groupDeliveryWatch.killNextCount).toBe(false);
    // Carol's retry finds her cursor moved and counts nothing: the watermark's count stays above zero.
    carolDevice.send({ action: 'DELIVERED', requestId: 'retry', groups: [{ conversationId, cursor }] });
    expect(await carolDevice.next((f) => f.requestId === 'retry')).not.toMatchObject({ type: 'ERROR' });
    await carolDevice.close();
    await parley.drainStreams();
    await expect(phone.next((f) => f.type === 'RECEIPT' && f.everyone, 300)).rejects.toThrow();
    // A quarter of an hour on, the group's next message has it computed again.
    clockAhead = WATERMARK_RECHECK_MS;
    try {
      await phone.close();
      // Alice's phone again (the new connection replaces the first), with the tick pushed to it.
      const next = await sendToGroup(alice, conversationId);
      const tick = await next.socket.next((f) => f.type === 'RECEIPT' && f.status === 'delivered' && f.everyone, 5000);
      expect(tick).toMatchObject({ conversationId, msgIds: [msgId], everyone: true });
      await next.socket.close();
    } finally {
      clockAhead = 0;
    }
  });

  it("ticks the messages a group's first watermark starts past", async () => {
    const { conversationId } = await aliceBobAndCarol('First watermark');
    const phone = await connectDevice(parley, alice);
    const msgId = randomUUID();
    // The group has no watermark yet: the message's fan-out computes the first one. It reads the positions
    // before Bob and Carol acknowledge, who count nothing themselves (no watermark counted them), and counts
    // both out when it reads the positions again: its next computation starts past the message.
    const positions = holdPositionRead();
    phone.send({ action: 'GROUP_SEND', requestId: 'm', msgId, conversationId, seq: 1, groupVersion: 1, ciphertext: 'AAAA' });
    await positions.reached;
    const acknowledge = async (device: DeviceCredentials) => {
      const socket = await connectDevice(parley, device);
      const { cursor } = (await syncQueue(socket)).find((f) => f.type === 'PUSH' && f.msgId === msgId);
      socket.send({ action: 'DELIVERED', requestId: 'd', groups: [{ conversationId, cursor }] });
      await socket.next((f) => f.requestId === 'd');
      return socket;
    };
    const sockets = [await acknowledge(bob), await acknowledge(carol)];
    positions.open();
    await parley.drainStreams();
    expect(await phone.next((f) => f.type === 'RECEIPT' && f.status === 'delivered', 5000)).toMatchObject({ msgIds: [msgId], everyone: true });
    await expect(phone.next((f) => f.type === 'RECEIPT', 300)).rejects.toThrow();
    await Promise.all([phone, ...sockets].map((socket) => socket.close()));
  });

  it('lets a member with no recorded position (a group from before positions were kept) hold the tick back', async () => {
    const { conversationId } = await aliceBobAndCarol('Older');
    await parley.clients.db.send(new DeleteCommand({ TableName: parley.resources.tables.groupDelivery, Key: { conversationId, userId: carol.userId } }));
    const { socket: phone, msgId } = await sendToGroup(alice, conversationId);
    const acknowledge = (device: DeviceCredentials) => acknowledgeGroupMessage(device, conversationId, msgId);
    await acknowledge(bob);
    await expect(phone.next((f) => f.type === 'RECEIPT', 300)).rejects.toThrow();
    const groupReadsBefore = groupDeliveryWatch.groupItemReads;
    await acknowledge(carol);
    expect(await phone.next((f) => f.type === 'RECEIPT' && f.status === 'delivered')).toMatchObject({ msgIds: [msgId], everyone: true });
    // Carol, the last at the watermark, computed it again: from one read of the group item (33 RRU for
    // 1,024 members), the positions read twice.
    expect(groupDeliveryWatch.groupItemReads - groupReadsBefore).toBe(1);
    await phone.close();
  });

  it('gives an action (GROUP_SEND control) no tick, and the message after it its own', async () => {
    const { groupId, conversationId } = await aliceBobAndCarol('Actions');
    const phone = await connectDevice(parley, alice);
    const [action, message] = [randomUUID(), randomUUID()];
    phone.send({ action: 'GROUP_SEND', requestId: 'c', msgId: action, conversationId, seq: 1, groupVersion: 1, ciphertext: 'AAAA', control: true });
    await phone.next((f) => f.requestId === 'c');
    phone.send({ action: 'GROUP_SEND', requestId: 'm', msgId: message, conversationId, seq: 2, groupVersion: 1, ciphertext: 'AAAA' });
    await phone.next((f) => f.requestId === 'm');
    await parley.drainStreams();
    for (const device of [bob, carol]) {
      const socket = await connectDevice(parley, device);
      const pushes = (await syncQueue(socket)).filter((f) => f.type === 'PUSH' && f.conversationId === conversationId);
      expect(pushes.map((p) => p.msgId)).toEqual([action, message]);
      // No chat-list preview for an action: named ignored.
      socket.send({ action: 'DELIVERED', requestId: 'a', groups: [{ conversationId, cursor: pushes[0].cursor, ciphertext: 'AAAA' }] });
      expect(await socket.next((f) => f.requestId === 'a')).toMatchObject({ type: 'DELIVERED_ACK', ignoredPreviews: [action] });
      socket.send({ action: 'DELIVERED', requestId: 'd', groups: [{ conversationId, cursor: pushes[1].cursor }] });
      await socket.next((f) => f.requestId === 'd');
      await socket.close();
      await parley.drainStreams();
    }
    expect(await phone.next((f) => f.type === 'RECEIPT' && f.status === 'delivered')).toMatchObject({ msgIds: [message], everyone: true });
    await expect(phone.next((f) => f.type === 'RECEIPT', 300)).rejects.toThrow();
    await phone.close();
    const receipts = (msgId: string) => call(parley, 'GET', `/v1/groups/${groupId}/messages/${msgId}/receipts`, { device: alice });
    expect((await receipts(action)).status).toBe(404);
    expect((await receipts(message)).status).toBe(200);
  });

  // A member of a group from before positions were kept has none: the watermark counts it at the start.
  it.each([
    ['the last member who did not have the message', false],
    ['a member with no recorded position, the last holding it back,', true],
  ])('gives the "delivered to everyone" tick when %s leaves the group', async (_, withoutPosition) => {
    const { groupId, conversationId } = await aliceBobAndCarol(withoutPosition ? 'Leaving, older' : 'Leaving');
    if (withoutPosition) await parley.clients.db.send(new DeleteCommand({ TableName: parley.resources.tables.groupDelivery, Key: { conversationId, userId: carol.userId } }));
    const { socket: phone, msgId } = await sendToGroup(alice, conversationId);
    await acknowledgeGroupMessage(bob, conversationId, msgId);
    // Carol holds the tick back while she is a member…
    await expect(phone.next((f) => f.type === 'RECEIPT', 300)).rejects.toThrow();
    // …and no longer once she is not: everyone the group has now has the message.
    await call(parley, 'POST', `/v1/groups/${groupId}/members`, { device: alice, body: { remove: [carol.userId] } });
    await parley.drainStreams();
    expect(await phone.next((f) => f.type === 'RECEIPT' && f.status === 'delivered')).toMatchObject({ conversationId, msgIds: [msgId], everyone: true });
    await phone.close();
  });
});

describe('groups in the chat list', () => {
  it('lists a group by its last message, with each member’s unread count from its last READ or its joining', async () => {
    const groupId = randomUUID();
    const conversationId = `group:${groupId}`;
    await call(parley, 'POST', '/v1/groups', { device: alice, body: { groupId, name: 'Chat list', members: [bob.userId] } });
    const phone = await connectDevice(parley, alice);
    const sent: string[] = [];
    const send = async (seq: number) => {
      const msgId = randomUUID();
      phone.send({ action: 'GROUP_SEND', requestId: `c${seq}`, msgId, conversationId, seq, groupVersion: seq === 1 ? 1 : 2, ciphertext: 'AAAA' });
      expect(await phone.next((f) => f.requestId === `c${seq}`)).toMatchObject({ type: 'ACK' });
      sent.push(msgId);
    };
    await send(1);
    await parley.drainStreams();
    await call(parley, 'POST', `/v1/groups/${groupId}/members`, { device: alice, body: { add: [carol.userId] } });
    await send(2);
    await send(3);
    await parley.drainStreams();
    const entryOf = async (device: DeviceCredentials) =>
      (await call(parley, 'GET', '/v1/conversations', { device })).body.conversations.find((c: any) => c.conversationId === conversationId);

    expect(await entryOf(bob)).toMatchObject({ lastMsgId: sent[2], unreadCount: 3 });
    expect(await entryOf(carol)).toMatchObject({ lastMsgId: sent[2], unreadCount: 2 });
    expect(await entryOf(alice)).toMatchObject({ lastMsgId: sent[2], unreadCount: 0 });
    const reader = await connectDevice(parley, bob);
    reader.send({ action: 'READ', requestId: 'r', conversationId, upToMsgId: sent[1] });
    expect(await reader.next((f) => f.requestId === 'r')).toMatchObject({ type: 'READ_ACK' });
    await reader.close();
    expect(await entryOf(bob)).toMatchObject({ unreadCount: 1 });
    await phone.close();
  });

  it('shows the newest preview any of the member’s devices acknowledged, never replaced by an older one or a repeat', async () => {
    const { conversationId } = await aliceBobAndCarol('Previews');
    const bobTablet = await linkDevice(parley, bob, 'Tablet');
    const phone = await connectDevice(parley, alice);
    const sent: string[] = [];
    for (const seq of [1, 2]) {
      const msgId = randomUUID();
      phone.send({ action: 'GROUP_SEND', requestId: `p${seq}`, msgId, conversationId, seq, groupVersion: 1, ciphertext: 'AAAA' });
      expect(await phone.next((f) => f.requestId === `p${seq}`)).toMatchObject({ type: 'ACK' });
      sent.push(msgId);
    }
    await phone.close();
    await parley.drainStreams();
    const previewOf = async () =>
      (await call(parley, 'GET', '/v1/conversations', { device: bob })).body.conversations.find((c: any) => c.conversationId === conversationId).preview;
    /** The device SYNCs, then acknowledges the message with its next SYNC, with a preview; answers that SYNC. */
    const acknowledge = async (device: DeviceCredentials, msgId: string, ciphertext: string) => {
      const socket = await connectDevice(parley, device);
      const push = (await syncQueue(socket)).find((f) => f.type === 'PUSH' && f.msgId === msgId);
      const answer = await request(socket, { action: 'SYNC', groups: [{ conversationId, cursor: push.cursor, ciphertext }] });
      await socket.close();
      return answer;
    };
    const newest = Buffer.from('newest').toString('base64');
    expect(await acknowledge(bob, sent[1]!, newest)).not.toHaveProperty('ignoredPreviews');
    expect(await previewOf()).toEqual({ msgId: sent[1], ciphertext: newest });
    // The tablet, behind the phone, acknowledges the older message: its preview is kept, but the newer one stands.
    expect(await acknowledge(bobTablet, sent[0]!, Buffer.from('older').toString('base64'))).not.toHaveProperty('ignoredPreviews');
    expect(await previewOf()).toEqual({ msgId: sent[1], ciphertext: newest });
    // A second preview of the same message does not replace the first.
    await acknowledge(bobTablet, sent[1]!, Buffer.from('second').toString('base64'));
    expect(await previewOf()).toEqual({ msgId: sent[1], ciphertext: newest });
  });
});
