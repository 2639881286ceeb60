/**
 * The local stack with its function invocations on worker threads (`functionThreads`) and DynamoDB and
 * Kinesis on a thread of their own, as `npm start` and the bench run it: the same handler modules, each
 * thread with SDK clients of its own, reaching the emulators and the gateway's `@connections` through ports.
 * A 1:1 message, a group message, a SYNC after being offline, and a fan-out that failed on its thread and
 * was retried all arrive as they do on one thread; the handlers' metrics reach GET /metrics, and the threads'
 * requests reach the main thread's instrumentation.
 */
import path from 'node:path';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { registerClient, reopenClient, type TestClient } from '../support/sdk-clients';

let parley: ParleyLocal;
let alice: TestClient;
let bob: TestClient;
let carol: TestClient;
/** Commands the threads' handlers sent, as their instrumentation reported them. */
const threadRequests: string[] = [];
/** Fan-out invocations still to fail on their thread; the errors that came back from the thread. */
const faults = { failingFanouts: 0 };
const threadErrors: Error[] = [];
const WAIT_MS = 30_000;

beforeAll(async () => {
  parley = await startParleyLocal({
    webSocketPort: 0,
    httpPort: 0,
    emulatorThread: true,
    functionThreads: 2,
    threadInstrumentation: {
      module: path.join(__dirname, '../fixtures/thread-request-names.ts'),
      setup: 'thread:',
      onReport: (report) => threadRequests.push(...(report as string[])),
    },
    intercept: (id, invoke) => async (event: any) => {
      if (id !== 'fanout' || faults.failingFanouts === 0) return invoke(event);
      faults.failingFanouts--;
      // An event the handler's schema refuses: it throws on the thread, and the error must come back here.
      try {
        return await invoke({ Records: 'not a list of records' });
      } catch (error) {
        threadErrors.push(error as Error);
        throw error;
      }
    },
  });
  alice = await registerClient(parley, '+14155551901');
  bob = await registerClient(parley, '+14155551902');
  carol = await registerClient(parley, '+14155551903');
}, 120_000);
afterAll(async () => {
  for (const device of [alice, bob, carol]) device?.client.close();
  await parley?.stop();
});

describe('The local stack with its function invocations on worker threads', () => {
  it('delivers a 1:1 message and brings its delivered tick back', async () => {
    const sent = await alice.client.send(bob.client.userId, 'Hello from a function thread');
    expect(await bob.events.waitFor('message', (m) => m.msgId === sent.msgId, WAIT_MS)).toMatchObject({ text: 'Hello from a function thread', from: { userId: alice.client.userId } });
    await alice.events.waitFor('receipt', (r) => r.status === 'delivered' && r.msgIds.includes(sent.msgId), WAIT_MS);
  }, 60_000);

  it('fans a group message out to every member', async () => {
    const { groupId } = await alice.client.createGroup('Threads', [bob.client.userId, carol.client.userId]);
    await Promise.all([bob, carol].map((member) => member.events.waitFor('groupUpdate', (u) => u.groupId === groupId, WAIT_MS)));
    const sent = await alice.client.sendToGroup(groupId, 'Hello, group');
    for (const member of [bob, carol]) {
      expect(await member.events.waitFor('message', (m) => m.msgId === sent.msgId, WAIT_MS)).toMatchObject({ text: 'Hello, group', groupId });
    }
  }, 60_000);

  it('gives an offline device its queue by SYNC, in order, when it comes back', async () => {
    bob.client.close();
    const offline = [await alice.client.send(bob.client.userId, 'While you were away'), await alice.client.send(bob.client.userId, 'And this too')];
    await parley.drainStreams();
    bob = await reopenClient(parley, bob.store);
    for (const message of offline) await bob.events.waitFor('message', (m) => m.msgId === message.msgId, WAIT_MS);
    expect(bob.events.texts()).toEqual(['While you were away', 'And this too']);
  }, 60_000);

  it('retries a fan-out that failed on its thread, and the message arrives once', async () => {
    // Nothing else on the stream: the next fan-out is this message's.
    await parley.drainStreams();
    faults.failingFanouts = 1;
    const sent = await alice.client.send(carol.client.userId, 'Retried');
    expect(await carol.events.waitFor('message', (m) => m.msgId === sent.msgId, WAIT_MS)).toMatchObject({ text: 'Retried' });
    await parley.drainStreams();
    expect(carol.events.seen.message.filter((m) => m.msgId === sent.msgId)).toHaveLength(1);
    expect(parley.failedBatches).toEqual([]);
    // What the handler threw on its thread, by name and message, not a generic failure of the thread.
    expect(threadErrors).toHaveLength(1);
    expect(threadErrors[0]!.name).toBe('$ZodError');
    expect(threadErrors[0]!.message).toContain('Records');
  }, 60_000);

  it("serves the handlers' metrics at GET /metrics and reports their requests to the main thread", async () => {
    const metrics = await (await fetch(`${parley.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^parley_messages_accepted_total\{[^}]*route="send"[^}]*\} [1-9]/m);
    expect(threadRequests).toEqual(expect.arrayContaining(['thread:PutItemCommand', 'thread:QueryCommand', 'thread:PostToConnectionCommand']));
  });
});
