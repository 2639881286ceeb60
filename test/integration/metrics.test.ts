/**
 * Metrics through the local stack: a message sent, pushed live, acknowledged and synced shows in the
 * counters the handlers emit (EMF on AWS), served as Prometheus text at GET /metrics of the HTTP port; a
 * route that fails unexpectedly is counted as INTERNAL, by code and by route.
 */
import { randomUUID } from 'node:crypto';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { directConversationId } from '../../lambdas/send/conversations';
import { METRIC } from '../../lambdas/runtime/metrics';
import { connectDevice, registerAccount, type TestDevice } from '../support/device-client';

let parley: ParleyLocal;
let alice: TestDevice;
let bob: TestDevice;
/** Set to make the next DynamoDB request of any handler throw, as an unexpected failure would. */
let failNextDatabaseRequest = false;

beforeAll(async () => {
  parley = await startParleyLocal({
    webSocketPort: 0,
    httpPort: 0,
    instrumentClients: (client) => {
      if (client.constructor.name !== 'DynamoDBClient') return client;
      const { middlewareStack } = client as unknown as { middlewareStack: { add(m: unknown, o: unknown): void } };
      middlewareStack.add(
        (next: (args: unknown) => Promise<unknown>) => (args: unknown) => {
          if (!failNextDatabaseRequest) return next(args);
          failNextDatabaseRequest = false;
          return Promise.reject(new Error('injected failure'));
        },
        { step: 'initialize', name: 'injectFailure' },
      );
      return client;
    },
  });
  alice = await registerAccount(parley, '+14155550901');
  bob = await registerAccount(parley, '+14155550902');
});
afterAll(async () => {
  await parley?.stop();
});

async function scrape(): Promise<string> {
  const response = await fetch(`${parley.httpUrl}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return response.text();
}

describe('metrics', () => {
  it('counts a message accepted, delivered live with its latency, acknowledged, and a SYNC', async () => {
    const before = {
      accepted: parley.metrics.total(METRIC.messagesAccepted, { route: 'send' }),
      live: parley.metrics.total(METRIC.liveDeliveries),
      delivered: parley.metrics.total(METRIC.messagesDelivered),
      opened: parley.metrics.total(METRIC.connectionsOpened),
      online: parley.metrics.total(METRIC.presenceChanges, { state: 'online' }),
    };
    const [aliceSocket, bobSocket] = await Promise.all([connectDevice(parley, alice), connectDevice(parley, bob)]);
    const msgId = randomUUID();
    aliceSocket.send({
      action: 'SEND',
      requestId: 's',
      msgId,
      conversationId: directConversationId(alice.userId, bob.userId),
      to: bob.userId,
      seq: 1,
      envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, registrationId: bob.registrationId, type: 'message', ciphertext: 'aGk=' }],
    });
    expect(await aliceSocket.next((f) => f.requestId === 's')).toMatchObject({ type: 'ACK' });
    const push = await bobSocket.next((f) => f.type === 'PUSH' && f.msgId === msgId);
    bobSocket.send({ action: 'DELIVERED', cursors: [push.cursor], requestId: 'd' });
    await bobSocket.next((f) => f.requestId === 'd');
    bobSocket.send({ action: 'SYNC', requestId: 'y' });
    await bobSocket.next((f) => f.requestId === 'y');
    await parley.drainStreams();

    expect(parley.metrics.total(METRIC.messagesAccepted, { route: 'send' })).toBe(before.accepted + 1);
    // Bob's PUSH, then Alice's delivered receipt.
    expect(parley.metrics.total(METRIC.liveDeliveries)).toBeGreaterThanOrEqual(before.live + 2);
    expect(parley.metrics.total(METRIC.messagesDelivered)).toBe(before.delivered + 1);
    expect(parley.metrics.total(METRIC.connectionsOpened)).toBe(before.opened + 2);
    // Both users came online.
    expect(parley.metrics.total(METRIC.presenceChanges, { state: 'online' })).toBe(before.online + 2);

    const text = await scrape();
    expect(text).toMatch(/^parley_messages_accepted_total\{service="parley",route="send"\} \d+$/m);
    expect(text).toMatch(/^parley_delivery_latency_milliseconds\{service="parley",quantile="0.99"\} \d+$/m);
    expect(text).toMatch(/^parley_sync_pages_total\{service="parley"\} \d+$/m);
    expect(text).toMatch(/^parley_stream_records_total\{service="parley",consumer="fanout"\} \d+$/m);
    expect(text).toMatch(/^parley_requests_total\{service="parley"\} \d+$/m);
    // No user id, device id, phone number or connection id anywhere in a label.
    expect(text).not.toContain(alice.userId);
    expect(text).not.toContain('+1415555');
    await Promise.all([aliceSocket.close(), bobSocket.close()]);
  });

  it('counts a route’s unexpected failure as INTERNAL, by code and by route', async () => {
    const socket = await connectDevice(parley, bob);
    await parley.drainStreams();
    const before = {
      internal: parley.metrics.total(METRIC.routeErrors, { code: 'INTERNAL' }),
      syncInternal: parley.metrics.total(METRIC.routeErrorsByRoute, { route: 'sync', code: 'INTERNAL' }),
    };
    failNextDatabaseRequest = true;
    socket.send({ action: 'SYNC', requestId: 'boom' });
    expect(await socket.next((f) => f.requestId === 'boom')).toMatchObject({ type: 'ERROR', code: 'INTERNAL' });
    expect(parley.metrics.total(METRIC.routeErrors, { code: 'INTERNAL' })).toBe(before.internal + 1);
    expect(parley.metrics.total(METRIC.routeErrorsByRoute, { route: 'sync', code: 'INTERNAL' })).toBe(before.syncInternal + 1);
    expect(await scrape()).toMatch(/^parley_route_errors_by_route_total\{service="parley",route="sync",code="INTERNAL"\} [1-9]\d*$/m);
    await socket.close();
  });
});
