/**
 * The SDK's connection against the local stack: SYNC before online, reconnect with backoff and SYNC
 * again after a drop (API Gateway's 2-hour limit, shortened here), no reconnect after SESSION_CLOSED or
 * refused credentials, and frames over 32 KB sent in fragments.
 */
import { randomUUID } from 'node:crypto';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import type { GroupCursor, QueuedFrame } from '../../lambdas/protocol/frames';
import { directConversationId } from '../../lambdas/send/conversations';
import { Connection } from '../../client/connection';
import type { ConnectionStatus } from '../../client/events';
import { call, connectDevice, registerAccount, type TestDevice } from '../support/device-client';
import { syncQueue } from '../support/sync-queue';

let parley: ParleyLocal;
let alice: TestDevice;
let bob: TestDevice;
const MAX_CONNECTION_MS = 2500;

beforeAll(async () => {
  parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0, limits: { maxConnectionMs: MAX_CONNECTION_MS } });
  alice = await registerAccount(parley, '+14155550801');
  bob = await registerAccount(parley, '+14155550802');
});
const opened: Connection[] = [];
afterEach(() => {
  for (const connection of opened.splice(0)) connection.close();
});
afterAll(async () => {
  await parley?.stop();
});

/** Alice sends Bob a message with a stand-in ciphertext (the server cannot tell) over a socket of her own. */
async function aliceSends(label: string, ciphertextBytes = 16): Promise<string> {
  const socket = await connectDevice(parley, alice);
  const msgId = randomUUID();
  const body = Buffer.alloc(ciphertextBytes, label).toString('base64');
  socket.send({ action: 'SEND', requestId: 'r', msgId, conversationId: directConversationId(alice.userId, bob.userId), to: bob.userId, seq: 1, envelopes: [{ userId: bob.userId, deviceId: 1, registrationId: bob.registrationId, type: 'message', ciphertext: body }] });
  expect(await socket.next((frame) => frame.requestId === 'r')).toMatchObject({ type: 'ACK' });
  await socket.close();
  return msgId;
}

function bobConnection(credentials = bob) {
  const states: ConnectionStatus[] = [];
  const received: QueuedFrame[] = [];
  const errors: Error[] = [];
  const connection: Connection = new Connection({
    url: parley.webSocketUrl,
    credentials,
    onQueued: async (frame) => {
      received.push(frame);
      if (frame.cursor) await connection.request({ action: 'DELIVERED', cursors: [frame.cursor] }, true);
    },
    onStatus: (status) => void states.push(status),
    onError: (error) => void errors.push(error),
    backoff: { initialMs: 100, maxMs: 400 },
  });
  opened.push(connection);
  return { connection, states, received, errors, pushed: () => received.filter((f) => f.type === 'PUSH').map((f) => (f as { msgId: string }).msgId) };
}

const until = async (check: () => boolean, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe('Connection', () => {
  it('SYNCs what was queued before it reports online, then takes live pushes', async () => {
    const queued = await aliceSends('a');
    await parley.drainStreams();
    const bobSide = bobConnection();
    await bobSide.connection.start();
    expect(bobSide.pushed()).toEqual([queued]);
    expect(bobSide.states.map((s) => s.state)).toEqual(['connecting', 'syncing', 'online']);
    const live = await aliceSends('b');
    await until(() => bobSide.pushed().includes(live));
    bobSide.connection.close();
    await until(() => bobSide.states.at(-1)?.state === 'closed');
  });

  it('reconnects after a drop, with backoff, and SYNCs what came meanwhile', async () => {
    const bobSide = bobConnection();
    await bobSide.connection.start();
    await until(() => bobSide.states.some((s) => s.state === 'offline'), MAX_CONNECTION_MS + 2000);
    const offline = bobSide.states.find((s) => s.state === 'offline')!;
    expect(offline.retryInMs).toBeGreaterThanOrEqual(50);
    expect(offline.retryInMs).toBeLessThanOrEqual(100);
    const meanwhile = await aliceSends('c');
    await until(() => bobSide.pushed().includes(meanwhile));
    await until(() => bobSide.states.filter((s) => s.state === 'online').length >= 2);
    expect(bobSide.states.slice(0, 7).map((s) => s.state)).toEqual(['connecting', 'syncing', 'online', 'offline', 'connecting', 'syncing', 'online']);
    bobSide.connection.close();
    await until(() => bobSide.states.at(-1)?.state === 'closed');
  });

  it('acknowledges group messages with its next SYNC, the one after a reconnect included', async () => {
    const groupId = randomUUID();
    const conversationId = `group:${groupId}`;
    expect((await call(parley, 'POST', '/v1/groups', { device: alice, body: { groupId, name: 'Next SYNC', members: [bob.userId] } })).status).toBe(201);
    const socket = await connectDevice(parley, alice);
    const msgId = randomUUID();
    socket.send({ action: 'GROUP_SEND', requestId: 'g', msgId, conversationId, seq: 1, groupVersion: 1, ciphertext: 'AAAA' });
    expect(await socket.next((frame) => frame.requestId === 'g')).toMatchObject({ type: 'ACK' });
    await socket.close();
    await parley.drainStreams();
    // As the SDK's acknowledger does: what a SYNC brought goes with the next SYNC, and comes back if that SYNC fails.
    let pending: GroupCursor[] = [];
    const sentWithSync: GroupCursor[][] = [];
    const pushes: string[] = [];
    const connection: Connection = new Connection({
      url: parley.webSocketUrl,
      credentials: bob,
      onQueued: async (frame) => {
        if (frame.type !== 'PUSH' || frame.conversationId !== conversationId) return;
        pushes.push(frame.msgId);
        pending = [{ conversationId, cursor: frame.cursor! }];
      },
      groupAcknowledgements: {
        take: () => {
          const taken = pending;
          pending = [];
          sentWithSync.push(taken);
          return taken;
        },
        restore: (cursors) => void (pending = [...cursors, ...pending]),
      },
      onStatus: () => undefined,
      backoff: { initialMs: 100, maxMs: 400 },
    });
    opened.push(connection);
    await connection.start();
    expect(pushes).toEqual([msgId]);
    // API Gateway's connection limit drops it; the reconnect's SYNC carries the cursor, and the message does not come again.
    await until(() => sentWithSync.length >= 2, MAX_CONNECTION_MS + 3000);
    expect(sentWithSync.slice(0, 2).map((groups) => groups.map((group) => group.conversationId))).toEqual([[], [conversationId]]);
    await until(() => connection.isOnline);
    expect(pushes).toEqual([msgId]);
    connection.close();
    const later = await connectDevice(parley, bob);
    expect((await syncQueue(later)).filter((frame) => frame.msgId === msgId)).toEqual([]);
    await later.close();
  });

  it('stops for good on SESSION_CLOSED: the same device connected elsewhere', async () => {
    const bobSide = bobConnection();
    await bobSide.connection.start();
    const elsewhere = await connectDevice(parley, bob);
    await until(() => bobSide.states.at(-1)?.state === 'closed');
    expect(bobSide.states.at(-1)!.reason).toContain('CONNECTED_ELSEWHERE');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bobSide.states.at(-1)!.state).toBe('closed');
    expect(bobSide.states.filter((s) => s.state === 'connecting')).toHaveLength(1);
    await expect(bobSide.connection.request({ action: 'HEARTBEAT' })).rejects.toThrow('closed');
    await elsewhere.close();
  });

  it('stops for good when the server refuses its credentials', async () => {
    const bobSide = bobConnection({ ...bob, secret: 'x'.repeat(43) });
    await expect(bobSide.connection.start()).rejects.toThrow('refused');
    expect(bobSide.states.map((s) => s.state)).toEqual(['connecting', 'closed']);
  });

  it('retries an unreachable server on the backoff schedule', async () => {
    const states: ConnectionStatus[] = [];
    const connection = new Connection({
      url: 'ws://127.0.0.1:9/nothing',
      credentials: bob,
      onQueued: async () => undefined,
      onStatus: (status) => void states.push(status),
      backoff: { initialMs: 20, maxMs: 80, random: () => 0.999999 },
    });
    opened.push(connection);
    void connection.start().catch(() => undefined);
    await until(() => states.filter((s) => s.state === 'offline').length >= 4);
    connection.close();
    expect(states.filter((s) => s.state === 'offline').slice(0, 4).map((s) => s.retryInMs)).toEqual([20, 40, 80, 80]);
  });

  it('reports an ERROR frame that answers none of its requests', async () => {
    const bobSide = bobConnection();
    await bobSide.connection.start();
    (bobSide.connection as unknown as { socket: { send(text: string): void } }).socket.send('{not json');
    await until(() => bobSide.errors.length > 0);
    expect(bobSide.errors[0]).toMatchObject({ name: 'ParleyApiError', code: 'BAD_REQUEST' });
  });

  it('sends a frame over 32 KB in fragments', async () => {
    const bobSide = bobConnection();
    await bobSide.connection.start();
    const body = Buffer.alloc(40 * 1024, 'z').toString('base64');
    const ack = await bobSide.connection.request({
      action: 'SEND',
      msgId: randomUUID(),
      conversationId: directConversationId(alice.userId, bob.userId),
      to: alice.userId,
      seq: 1,
      envelopes: [{ userId: alice.userId, deviceId: 1, registrationId: alice.registrationId, type: 'message', ciphertext: body }],
    });
    expect(ack.type).toBe('ACK');
    bobSide.connection.close();
  });
});
