/**
 * One live connection per device, whatever the interleaving: many connections of one device opened at
 * once leave exactly one that the server serves; every other one is told SESSION_CLOSED and closed, at
 * the latest when it sends a frame, and none of them can read or empty the device's queue meanwhile.
 */
import { randomUUID } from 'node:crypto';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import type { DeviceCredentials } from '../../lambdas/protocol/credentials';
import { connectDevice, registerAccount, request, type DeviceSocket } from '../support/device-client';

let parley: ParleyLocal;
let device: DeviceCredentials;

beforeAll(async () => {
  parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0, limits: { newConnectionsPerSecond: 10_000 } });
  device = await registerAccount(parley, '+14155550901');
});
afterAll(() => parley.stop());

const isOpen = (socket: DeviceSocket) => socket.socket.readyState === socket.socket.OPEN;

/** Opens `count` connections of the device at once; answers those whose handshake was accepted. */
async function connectAtOnce(count: number): Promise<DeviceSocket[]> {
  const attempts = await Promise.allSettled(Array.from({ length: count }, () => connectDevice(parley, device)));
  for (const attempt of attempts) {
    // A connection that lost the race while still in its handshake is refused there, with 409.
    if (attempt.status === 'rejected') expect((attempt.reason as { status?: number }).status).toBe(409);
  }
  return attempts.flatMap((attempt) => (attempt.status === 'fulfilled' ? [attempt.value] : []));
}

/** What one connection answers to a SYNC: the queue page, or that it was replaced and is closing. */
async function probe(socket: DeviceSocket): Promise<'served' | 'closed'> {
  if (!isOpen(socket)) return 'closed';
  const requestId = randomUUID();
  socket.send({ action: 'SYNC', requestId });
  const answer = await Promise.race([
    socket.next((frame) => frame.requestId === requestId || frame.type === 'SESSION_CLOSED', 10_000).catch(() => undefined),
    socket.closed.then(() => undefined),
  ]);
  if (answer?.type === 'QUEUE_EMPTY' || answer?.type === 'SYNC_PAGE') return 'served';
  if (answer !== undefined) expect(answer).toMatchObject({ type: 'SESSION_CLOSED', reason: 'CONNECTED_ELSEWHERE', code: 4409 });
  await socket.closed;
  return 'closed';
}

describe('many connections of one device at once', () => {
  it.each([1, 2])('leave exactly one connection served and close every other (round %i)', async () => {
    const sockets = await connectAtOnce(64);
    expect(sockets.length).toBeGreaterThan(0);
    const outcomes = await Promise.all(sockets.map(probe));
    expect(outcomes.filter((outcome) => outcome === 'served')).toHaveLength(1);
    // Whatever did not get served is closed by the server, not left open.
    expect(sockets.filter((socket, index) => outcomes[index] === 'closed' && isOpen(socket))).toHaveLength(0);
    const survivor = sockets[outcomes.indexOf('served')]!;
    expect(await request(survivor, { action: 'HEARTBEAT' })).toMatchObject({ type: 'HEARTBEAT_ACK' });
    await Promise.all(sockets.map((socket) => socket.close()));
  });

  it('refuses every frame from a replaced connection and tells it why', async () => {
    const old = await connectDevice(parley, device);
    const current = await connectDevice(parley, device);
    // The replaced connection may have been closed already by the newer one's $connect; if it is still
    // open (its SESSION_CLOSED raced), its next frame ends it.
    const outcome = await probe(old);
    expect(outcome).toBe('closed');
    expect(await probe(current)).toBe('served');
    await current.close();
  });
});
