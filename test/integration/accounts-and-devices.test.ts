/**
 * The platform end to end on the local stack: real HTTP and WebSocket clients, the real handlers, the
 * real AWS SDK clients against the emulators.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { sendToDevice } from '../../lambdas/connect/sessions';
import type { DeviceCredentials } from '../../lambdas/protocol/credentials';
import { call, connectDevice, linkDevice, newSecret, registerAccount } from '../support/device-client';

let parley: ParleyLocal;
let phoneCounter = 0;
const newPhone = () => `+1415555${String(1000 + phoneCounter++).padStart(4, '0')}`;

beforeAll(async () => {
  parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0 });
});
afterAll(async () => {
  await parley?.stop();
});

const routeOf = async (device: DeviceCredentials) =>
  (
    await parley.clients.db.send(
      new GetCommand({ TableName: parley.resources.tables.routing, Key: { userId: device.userId, deviceId: device.deviceId } }),
    )
  ).Item;

const depsFor = (fn: keyof ParleyLocal['environments']) => ({ env: parley.environments[fn], clients: parley.clients, now: Date.now });

describe('accounts', () => {
  it('registers a number with the code from the SMS, which no response carries', async () => {
    const phoneNumber = newPhone();
    const requested = await call(parley, 'POST', '/v1/verification/code', { body: { phoneNumber } });
    expect(requested.status).toBe(202);
    const sms = await parley.emulators.sns.waitFor((d) => d.kind === 'sms' && d.to === phoneNumber, 5000);
    const code = /(\d{6})/.exec(sms.message)![1]!;
    expect(JSON.stringify(requested.body)).not.toContain(code);
    const registered = await call(parley, 'POST', '/v1/accounts', { body: { phoneNumber, code, deviceSecret: newSecret() } });
    expect(registered.status).toBe(201);
    expect(registered.body).toEqual({ userId: expect.any(String), deviceId: 1 });
  });

  it('burns a code after three wrong attempts', async () => {
    const phoneNumber = newPhone();
    await call(parley, 'POST', '/v1/verification/code', { body: { phoneNumber } });
    const sms = await parley.emulators.sns.waitFor((d) => d.kind === 'sms' && d.to === phoneNumber, 5000);
    const code = /(\d{6})/.exec(sms.message)![1]!;
    const wrong = code === '000000' ? '111111' : '000000';
    const attempts = [];
    for (let i = 0; i < 3; i++) {
      attempts.push(await call(parley, 'POST', '/v1/accounts', { body: { phoneNumber, code: wrong, deviceSecret: newSecret() } }));
    }
    expect(attempts.map((a) => a.body.error.attemptsLeft)).toEqual([2, 1, 0]);
    const right = await call(parley, 'POST', '/v1/accounts', { body: { phoneNumber, code, deviceSecret: newSecret() } });
    expect(right.status).toBe(410);
  });

  it('refuses a second code for the same number within a minute', async () => {
    const phoneNumber = newPhone();
    expect((await call(parley, 'POST', '/v1/verification/code', { body: { phoneNumber } })).status).toBe(202);
    const again = await call(parley, 'POST', '/v1/verification/code', { body: { phoneNumber } });
    expect(again.status).toBe(429);
    expect(again.body.error.retryAfterSeconds).toBeGreaterThan(50);
    expect(parley.emulators.sns.outbox.filter((d) => d.to === phoneNumber)).toHaveLength(1);
  });
});

describe('devices', () => {
  it('links up to four more devices and refuses a sixth', async () => {
    const phone = await registerAccount(parley, newPhone());
    const linked = [];
    for (const name of ['Tablet', 'Laptop', 'Desktop', 'Watch']) linked.push(await linkDevice(parley, phone, name));
    expect(linked.map((d) => d.deviceId)).toEqual([2, 3, 4, 5]);
    const listed = await call(parley, 'GET', '/v1/devices', { device: linked[0] });
    expect(listed.body.devices.map((d: any) => d.name)).toEqual(['Phone', 'Tablet', 'Laptop', 'Desktop', 'Watch']);
    expect(JSON.stringify(listed.body)).not.toMatch(/secret/i);
    const sixth = await call(parley, 'POST', '/v1/devices/link-token', { device: phone });
    expect(sixth.status).toBe(409);
  });

  it('uses a link token once only', async () => {
    const phone = await registerAccount(parley, newPhone());
    const { body } = await call(parley, 'POST', '/v1/devices/link-token', { device: phone });
    const link = () => call(parley, 'POST', '/v1/devices/link', { body: { linkToken: body.linkToken, deviceSecret: newSecret(), deviceName: 'Tablet' } });
    const [first, second] = await Promise.all([link(), link()]);
    expect([first.status, second.status].sort()).toEqual([201, 410]);
  });

  it('refuses authorized routes with 401 without credentials and 403 with wrong ones', async () => {
    const phone = await registerAccount(parley, newPhone());
    expect((await call(parley, 'GET', '/v1/devices')).status).toBe(401);
    expect((await call(parley, 'GET', '/v1/devices', { device: { ...phone, secret: newSecret() } })).status).toBe(403);
  });
});

describe('connections', () => {
  it('connects two devices of one account and keeps their routes alive with heartbeats', async () => {
    const phone = await registerAccount(parley, newPhone());
    const tablet = await linkDevice(parley, phone, 'Tablet');
    const [a, b] = await Promise.all([connectDevice(parley, phone), connectDevice(parley, tablet)]);
    a.send({ action: 'HEARTBEAT', requestId: 'hb-1' });
    b.send({ action: 'HEARTBEAT', requestId: 'hb-2' });
    expect(await a.next()).toMatchObject({ type: 'HEARTBEAT_ACK', requestId: 'hb-1' });
    expect(await b.next()).toMatchObject({ type: 'HEARTBEAT_ACK', requestId: 'hb-2' });
    expect((await routeOf(phone))?.connectionId).toBeDefined();
    expect((await routeOf(tablet))?.connectionId).not.toBe((await routeOf(phone))?.connectionId);
    await a.close();
    await b.close();
    await waitUntil(async () => !(await routeOf(phone)) && !(await routeOf(tablet)));
  });

  it('refuses the handshake with 401 without credentials and 403 with wrong ones', async () => {
    const phone = await registerAccount(parley, newPhone());
    await expect(connectDevice(parley)).rejects.toMatchObject({ status: 401 });
    await expect(connectDevice(parley, { ...phone, secret: newSecret() })).rejects.toMatchObject({ status: 403 });
    await expect(connectDevice(parley, { ...phone, deviceId: 4 })).rejects.toMatchObject({ status: 403 });
  });

  it('closes the older connection of a device that connects again, and keeps the newer route', async () => {
    const phone = await registerAccount(parley, newPhone());
    const first = await connectDevice(parley, phone);
    const firstRoute = await routeOf(phone);
    const second = await connectDevice(parley, phone);
    expect(await first.next((f) => f.type === 'SESSION_CLOSED')).toEqual({ type: 'SESSION_CLOSED', reason: 'CONNECTED_ELSEWHERE', code: 4409 });
    await first.closed;
    // The old connection's $disconnect has run by now; the route must still point at the new one.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const route = await routeOf(phone);
    expect(route?.connectionId).toBeDefined();
    expect(route?.connectionId).not.toBe(firstRoute?.connectionId);
    second.send({ action: 'HEARTBEAT' });
    expect(await second.next()).toMatchObject({ type: 'HEARTBEAT_ACK' });
    await second.close();
  });

  it('closes a removed device’s connection and refuses it afterwards', async () => {
    const phone = await registerAccount(parley, newPhone());
    const tablet = await linkDevice(parley, phone, 'Tablet');
    const socket = await connectDevice(parley, tablet);
    expect((await call(parley, 'DELETE', `/v1/devices/${tablet.deviceId}`, { device: phone })).status).toBe(204);
    expect(await socket.next((f) => f.type === 'SESSION_CLOSED')).toMatchObject({ reason: 'DEVICE_REMOVED', code: 4401 });
    await socket.closed;
    await expect(connectDevice(parley, tablet)).rejects.toMatchObject({ status: 403 });
    expect((await call(parley, 'GET', '/v1/devices', { device: tablet })).status).toBe(403);
  });

  it('signs every device out when the number registers again', async () => {
    const phoneNumber = newPhone();
    const oldPhone = await registerAccount(parley, phoneNumber);
    const tablet = await linkDevice(parley, oldPhone, 'Tablet');
    const [a, b] = await Promise.all([connectDevice(parley, oldPhone), connectDevice(parley, tablet)]);
    // The resend interval keeps a second code from going out at once; let the clock pass it.
    await parley.clients.db.send(
      new PutCommand({ TableName: parley.resources.tables.verificationCodes, Item: { phoneNumber, sentAt: [], version: 99, attemptsLeft: 0, codeExpiresAt: 0, expiresAt: 0 } }),
    );
    const newPhoneDevice = await registerAccount(parley, phoneNumber, 'New phone');
    expect(newPhoneDevice.userId).toBe(oldPhone.userId);
    expect(await a.next((f) => f.type === 'SESSION_CLOSED')).toMatchObject({ reason: 'DEVICE_REMOVED' });
    expect(await b.next((f) => f.type === 'SESSION_CLOSED')).toMatchObject({ reason: 'DEVICE_REMOVED' });
    await expect(connectDevice(parley, oldPhone)).rejects.toMatchObject({ status: 403 });
    await expect(connectDevice(parley, tablet)).rejects.toMatchObject({ status: 403 });
    const fresh = await connectDevice(parley, newPhoneDevice);
    await fresh.close();
  });

  it('removes the route of a connection found gone when posting to it', async () => {
    const phone = await registerAccount(parley, newPhone());
    // A connection that dropped without a $disconnect leaves its route behind. It opened a minute ago: a
    // younger one might still be in its handshake, which answers Gone too, and keeps its route.
    await parley.clients.db.send(
      new PutCommand({
        TableName: parley.resources.tables.routing,
        Item: { userId: phone.userId, deviceId: 1, connectionId: 'Zm9yZ290dGVuAAA=', connectedAt: Date.now() - 60_000, expiresAt: Math.floor(Date.now() / 1000) + 600 },
      }),
    );
    expect(await sendToDevice(depsFor('connect'), phone.userId, 1, { type: 'HEARTBEAT_ACK', routeExpiresAt: 0 })).toBe('offline');
    expect(await routeOf(phone)).toBeUndefined();
  });
});

describe('frames', () => {
  let device: DeviceCredentials;
  beforeAll(async () => {
    device = await registerAccount(parley, newPhone());
  });

  it('answers a frame that breaks its schema with an error naming the field', async () => {
    const socket = await connectDevice(parley, device);
    socket.send({ action: 'HEARTBEAT', requestId: 7 });
    expect(await socket.next()).toMatchObject({ type: 'ERROR', code: 'BAD_REQUEST', action: 'HEARTBEAT', message: expect.stringContaining('requestId') });
    await socket.close();
  });

  it('routes malformed JSON and unknown actions to $default, which answers with an error', async () => {
    const socket = await connectDevice(parley, device);
    socket.send('{"action": ');
    expect(await socket.next()).toMatchObject({ type: 'ERROR', code: 'BAD_REQUEST', message: 'The frame is not valid JSON' });
    socket.send({ action: 'DANCE', requestId: 'r1' });
    expect(await socket.next()).toMatchObject({ type: 'ERROR', code: 'UNKNOWN_ACTION', requestId: 'r1', knownActions: expect.arrayContaining(['HEARTBEAT', 'SEND']) });
    await socket.close();
  });

  it('closes the connection with 1009 on a frame over 32 KB, as API Gateway does', async () => {
    const socket = await connectDevice(parley, device);
    // One unfragmented frame, as a client that ignores the limit sends it.
    socket.socket.send(JSON.stringify({ action: 'HEARTBEAT', padding: 'x'.repeat(33 * 1024) }));
    expect(await socket.closed).toBe(1009);
  });
});

describe('restart', () => {
  it('keeps accounts and devices on disk with a data folder', async () => {
    const dataDir = mkdtempSync(`${tmpdir()}/parley-data-`);
    try {
      let local = await startParleyLocal({ webSocketPort: 0, httpPort: 0, dataDir });
      const phone = await registerAccount(local, '+14155559999');
      await local.stop();
      local = await startParleyLocal({ webSocketPort: 0, httpPort: 0, dataDir });
      const socket = await connectDevice(local, phone);
      await socket.close();
      await local.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
