/**
 * The Key Distribution Service on the local stack: real libsignal keys uploaded over HTTP and WebSocket,
 * bundles fetched by real clients, one-time prekeys taken under concurrency, and sessions started from
 * what the server handed out.
 */
import { randomUUID } from 'node:crypto';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import type { DeviceCredentials } from '../../lambdas/protocol/credentials';
import { MAX_USERS_PER_BATCH, MAX_USERS_PER_FETCH_FRAME, type DeviceBundle } from '../../lambdas/protocol/keys-api';
import { FETCHES_PER_DEVICE, FETCHES_PER_USER } from '../../lambdas/keys/constants';
import { spendTokens } from '../../lambdas/tables/rate-limits';
import { call, connectDevice, forgetCodeRequests, linkDeviceWithoutKeys, registerAccountWithoutKeys, type DeviceSocket } from '../support/device-client';
import { DeviceKeyMaterial, startSession } from '../support/signal-keys';
import { syncQueue } from '../support/sync-queue';

let parley: ParleyLocal;
/** The handlers' clock: a test that must not see tokens come back stops it. */
let stoppedAt: number | undefined;
let phoneCounter = 0;
const newPhone = () => `+1415556${String(1000 + phoneCounter++).padStart(4, '0')}`;
const newDevice = () => registerAccountWithoutKeys(parley, newPhone());
const depsOf = (fn: keyof ParleyLocal['environments']) => ({ env: parley.environments[fn], clients: parley.clients, now: () => stoppedAt ?? Date.now() });

beforeAll(async () => {
  parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0, now: () => stoppedAt ?? Date.now() });
});
afterAll(async () => {
  await parley?.stop();
});

const upload = (device: DeviceCredentials, body: unknown) => call(parley, 'PUT', '/v1/keys/self', { device, body });
const count = async (device: DeviceCredentials) => (await call(parley, 'GET', '/v1/keys/self/count', { device })).body;
const fetchKeys = (by: DeviceCredentials, target: DeviceCredentials | string, query = '') =>
  call(parley, 'GET', `/v1/keys/${typeof target === 'string' ? target : target.userId}${query}`, { device: by });

/** A registered device that has uploaded `oneTime` one-time prekeys of each kind. */
async function deviceWithKeys(oneTime: number): Promise<{ device: DeviceCredentials; keys: DeviceKeyMaterial }> {
  const device = await newDevice();
  const keys = new DeviceKeyMaterial();
  const stored = await upload(device, keys.firstUpload(device, oneTime));
  expect(stored).toEqual({ status: 200, body: { oneTimePrekeys: oneTime, kyberPrekeys: oneTime } });
  return { device, keys };
}

const request = async (socket: DeviceSocket, frame: Record<string, unknown>) => {
  const requestId = randomUUID();
  socket.send({ ...frame, requestId });
  return socket.next((answer) => answer.requestId === requestId);
};

describe('uploading keys', () => {
  it('stores a first upload of 100 prekeys of each kind and counts them', async () => {
    const { device } = await deviceWithKeys(100);
    expect(await count(device)).toEqual({ oneTimePrekeys: 100, kyberPrekeys: 100 });
  });

  it('changes nothing when the same upload comes again', async () => {
    const device = await newDevice();
    const body = new DeviceKeyMaterial().firstUpload(device, 3);
    expect((await upload(device, body)).body).toEqual({ oneTimePrekeys: 3, kyberPrekeys: 3 });
    expect((await upload(device, body)).body).toEqual({ oneTimePrekeys: 3, kyberPrekeys: 3 });
  });

  it('replaces the signed and last-resort prekeys and adds one-time prekeys', async () => {
    const { device, keys } = await deviceWithKeys(2);
    const later = { signedPrekey: keys.signedPrekey(2), lastResortKyberPrekey: keys.kyberPrekey(1001), ...keys.prekeyBatch(3, 50) };
    expect((await upload(device, later)).body).toEqual({ oneTimePrekeys: 5, kyberPrekeys: 5 });
    const fetched = await fetchKeys(await newDevice(), device);
    expect(fetched.body.devices[0].signedPrekey).toEqual(later.signedPrekey);
  });

  it('refuses a first upload without every part of it, storing nothing', async () => {
    const device = await newDevice();
    const { signedPrekey: _left, ...incomplete } = new DeviceKeyMaterial().firstUpload(device, 2);
    const refused = await upload(device, incomplete);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'BAD_REQUEST', missing: ['signedPrekey'] });
    expect(await count(device)).toEqual({ oneTimePrekeys: 0, kyberPrekeys: 0 });
    expect((await fetchKeys(await newDevice(), device)).status).toBe(404);
  });

  it('refuses the whole upload when one Kyber prekey is not signed by the identity key', async () => {
    const device = await newDevice();
    const body = new DeviceKeyMaterial().firstUpload(device, 40);
    body.kyberPrekeys[37] = new DeviceKeyMaterial().kyberPrekey(body.kyberPrekeys[37]!.keyId);
    const refused = await upload(device, body);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'INVALID_SIGNATURE', field: 'kyberPrekeys.37' });
    expect(await count(device)).toEqual({ oneTimePrekeys: 0, kyberPrekeys: 0 });
  });

  it('refuses a signed prekey whose signature is of another key', async () => {
    const { device, keys } = await deviceWithKeys(1);
    const signedPrekey = { ...keys.signedPrekey(3), signature: keys.signedPrekey(4).signature };
    const refused = await upload(device, { signedPrekey });
    expect(refused.body.error).toMatchObject({ code: 'INVALID_SIGNATURE', field: 'signedPrekey', keyId: 3 });
    const fetched = await fetchKeys(await newDevice(), device);
    expect(fetched.body.devices[0].signedPrekey.keyId).toBe(1);
  });

  it.each([
    ['malformed base64', (key: string) => `${key.slice(0, -4)}A*==`],
    ['a key a byte short', (key: string) => Buffer.from(key, 'base64').subarray(0, 32).toString('base64')],
    ['a key a byte long', (key: string) => Buffer.concat([Buffer.from(key, 'base64'), Buffer.of(0)]).toString('base64')],
    ['a key of the wrong type', (key: string) => Buffer.from([0x08, ...Buffer.from(key, 'base64').subarray(1)]).toString('base64')],
    ['unpadded base64', (key: string) => Buffer.from(key, 'base64').subarray(0, 32).toString('base64').replace(/=+$/, '')],
  ])('refuses %s with a message naming the field, storing nothing', async (_case, spoil) => {
    const device = await newDevice();
    const body = new DeviceKeyMaterial().firstUpload(device, 5);
    body.oneTimePrekeys[2] = { ...body.oneTimePrekeys[2]!, publicKey: spoil(body.oneTimePrekeys[2]!.publicKey) };
    const refused = await upload(device, body);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('oneTimePrekeys.2.publicKey');
    expect(await count(device)).toEqual({ oneTimePrekeys: 0, kyberPrekeys: 0 });
  });

  it('takes 100 one-time prekeys of a kind in one upload and refuses 101', async () => {
    const { device, keys } = await deviceWithKeys(0);
    const oneTimePrekeys = Array.from({ length: 101 }, (_, i) => keys.oneTimePrekey(i + 1));
    const refused = await upload(device, { oneTimePrekeys });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('oneTimePrekeys');
    expect(await count(device)).toEqual({ oneTimePrekeys: 0, kyberPrekeys: 0 });
    expect((await upload(device, { oneTimePrekeys: oneTimePrekeys.slice(0, 100) })).status).toBe(200);
  });

  it('stores up to 200 one-time prekeys of a kind and refuses one more', async () => {
    const { device, keys } = await deviceWithKeys(100);
    const more = Array.from({ length: 101 }, (_, i) => keys.oneTimePrekey(101 + i));
    expect((await upload(device, { oneTimePrekeys: more.slice(0, 100) })).body).toEqual({ oneTimePrekeys: 200, kyberPrekeys: 100 });
    const refused = await upload(device, { oneTimePrekeys: more.slice(100) });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'TOO_MANY_PREKEYS', maxStoredPrekeys: 200, stored: 200 });
    // Keys stored already count once: the same batch again still fits.
    expect((await upload(device, { oneTimePrekeys: more.slice(0, 100) })).status).toBe(200);
  });

  it('refuses another identity key for a device that has one', async () => {
    const { device } = await deviceWithKeys(1);
    const other = new DeviceKeyMaterial();
    const refused = await upload(device, other.firstUpload(device, 1));
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('IDENTITY_KEY_CHANGED');
    expect((await fetchKeys(await newDevice(), device)).body.devices[0].identityKey).not.toBe(other.identityKey);
  });

  it('refuses another registration id for a device that has one', async () => {
    const { device, keys } = await deviceWithKeys(1);
    const refused = await upload(device, { identityKey: keys.identityKey, registrationId: (keys.registrationId % 16380) + 1 });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'IDENTITY_KEY_CHANGED', changed: ['registrationId'] });
    expect((await fetchKeys(await newDevice(), device)).body.devices[0].registrationId).toBe(keys.registrationId);
  });

  it('refuses a first upload that does not prove the identity key is the device’s own, storing nothing', async () => {
    const { device: victim, keys: victimKeys } = await deviceWithKeys(1);
    const copier = await newDevice();
    // The victim's public keys, signatures and all, and even its own proof: everything a copier could get.
    const copied = victimKeys.firstUpload(victim, 2);
    const { identityProof: _dropped, ...withoutProof } = copied;
    const refusals = [
      [withoutProof, { code: 'BAD_REQUEST', missing: ['identityProof'] }],
      [copied, { code: 'INVALID_SIGNATURE', field: 'identityProof' }],
      [{ ...copied, identityProof: new DeviceKeyMaterial().identityProof(copier) }, { code: 'INVALID_SIGNATURE', field: 'identityProof' }],
    ] as const;
    for (const [body, error] of refusals) {
      const refused = await upload(copier, body);
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatchObject(error);
    }
    expect(await count(copier)).toEqual({ oneTimePrekeys: 0, kyberPrekeys: 0 });
    expect((await fetchKeys(await newDevice(), copier)).status).toBe(404);
    expect((await call(parley, 'GET', '/v1/devices', { device: copier })).body.devices).toEqual([expect.objectContaining({ deviceId: 1, hasKeys: false })]);
    // Its own identity, with its proof, is taken.
    expect((await upload(copier, new DeviceKeyMaterial().firstUpload(copier, 1))).status).toBe(200);
  });

  it('refuses keys named for another device, and an upload without credentials', async () => {
    const device = await newDevice();
    const victim = await newDevice();
    const body = new DeviceKeyMaterial().firstUpload(device, 1);
    const refused = await upload(device, { ...body, userId: victim.userId, deviceId: victim.deviceId });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/userId|deviceId/);
    expect((await call(parley, 'PUT', '/v1/keys/self', { body })).status).toBe(401);
    expect(await count(device)).toEqual({ oneTimePrekeys: 0, kyberPrekeys: 0 });
    expect(await count(victim)).toEqual({ oneTimePrekeys: 0, kyberPrekeys: 0 });
  });

  it('takes uploads as UPLOAD_PREKEYS frames, with the same checks', async () => {
    const device = await newDevice();
    const keys = new DeviceKeyMaterial();
    const socket = await connectDevice(parley, device);
    const requestId = randomUUID();
    socket.send({ action: 'UPLOAD_PREKEYS', requestId, ...keys.firstUpload(device, 20) });
    expect(await socket.next((answer) => answer.requestId === requestId)).toMatchObject({
      type: 'PREKEYS_STORED',
      oneTimePrekeys: 20,
      kyberPrekeys: 20,
    });
    const forged = { ...keys.kyberPrekey(77), signature: keys.kyberPrekey(78).signature };
    expect(await request(socket, { action: 'UPLOAD_PREKEYS', kyberPrekeys: [forged] })).toMatchObject({
      type: 'ERROR',
      code: 'INVALID_SIGNATURE',
      action: 'UPLOAD_PREKEYS',
    });
    await socket.close();
    expect(await count(device)).toEqual({ oneTimePrekeys: 20, kyberPrekeys: 20 });
  });
});

describe('fetching bundles', () => {
  it('hands each of 10 one-time prekeys out at most once to 50 concurrent fetches, then the last-resort key', async () => {
    const { device, keys } = await deviceWithKeys(10);
    const requesters = await Promise.all(Array.from({ length: 50 }, () => newDevice()));
    const answers = await Promise.all(requesters.map((requester) => fetchKeys(requester, device)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(50).fill(200));
    const bundles: DeviceBundle[] = answers.map((answer) => answer.body.devices[0]);
    const prekeyIds = bundles.flatMap((bundle) => (bundle.prekey ? [bundle.prekey.keyId] : []));
    const kyberIds = bundles.filter((bundle) => !bundle.lastResort).map((bundle) => bundle.kyberPrekey.keyId);
    expect(prekeyIds.sort((a, b) => a - b)).toEqual([...keys.prekeys.keys()].sort((a, b) => a - b));
    expect(new Set(kyberIds).size).toBe(10);
    expect(bundles.filter((bundle) => bundle.lastResort).map((bundle) => bundle.kyberPrekey.keyId)).toEqual(Array(40).fill(1000));
    expect(await count(device)).toEqual({ oneTimePrekeys: 0, kyberPrekeys: 0 });
  });

  it('starts a session on the signed and last-resort prekeys once the one-time prekeys are gone', async () => {
    const { device, keys } = await deviceWithKeys(0);
    const { body } = await fetchKeys(await newDevice(), device);
    const bundle: DeviceBundle = body.devices[0];
    expect(bundle.prekey).toBeUndefined();
    expect(bundle).toMatchObject({ lastResort: true, kyberPrekey: { keyId: 1000 }, identityKey: keys.identityKey });
    expect(await startSession(bundle, keys, 'hello without one-time keys')).toBe('hello without one-time keys');
  });

  it('starts a session on a one-time EC and Kyber prekey', async () => {
    const { device, keys } = await deviceWithKeys(12);
    const bundle: DeviceBundle = (await fetchKeys(await newDevice(), device)).body.devices[0];
    expect(bundle.prekey).toBeDefined();
    expect(bundle.lastResort).toBe(false);
    expect(await startSession(bundle, keys, 'hello')).toBe('hello');
  });

  it('answers one bundle per device with keys, or only the devices asked for', async () => {
    const { device: phone } = await deviceWithKeys(3);
    const tablet = await linkDeviceWithoutKeys(parley, phone, 'Tablet');
    await linkDeviceWithoutKeys(parley, phone, 'Laptop without keys');
    await upload(tablet, new DeviceKeyMaterial().firstUpload(tablet, 3));
    const requester = await newDevice();
    const all = await fetchKeys(requester, phone);
    expect(all.body.userId).toBe(phone.userId);
    expect(all.body.devices.map((bundle: DeviceBundle) => bundle.deviceId)).toEqual([1, 2]);
    expect((await fetchKeys(requester, phone, '?deviceIds=2,3')).body.devices.map((bundle: DeviceBundle) => bundle.deviceId)).toEqual([2]);
    expect((await fetchKeys(requester, phone, '?deviceIds=3')).status).toBe(404);
    expect((await fetchKeys(requester, phone, '?deviceIds=two')).status).toBe(400);
  });

  it('answers 404 for a user with no account, and 400 for a malformed user id', async () => {
    const requester = await newDevice();
    expect((await fetchKeys(requester, randomUUID())).status).toBe(404);
    expect((await fetchKeys(requester, 'not-a-user')).status).toBe(400);
    expect((await fetchKeys(requester, 'self')).status).toBe(400);
  });

  it('answers a batch with bundles and the users without keys, up to 64 users', async () => {
    const [{ device: a }, { device: b }] = await Promise.all([deviceWithKeys(1), deviceWithKeys(1)]);
    const nobody = randomUUID();
    const requester = await newDevice();
    const batch = await call(parley, 'POST', '/v1/keys/batch', {
      device: requester,
      body: { users: [{ userId: a.userId }, { userId: b.userId, deviceIds: [1] }, { userId: nobody }] },
    });
    expect(batch.status).toBe(200);
    expect(batch.body.bundles.map((user: { userId: string }) => user.userId)).toEqual([a.userId, b.userId]);
    expect(batch.body.missing).toEqual([nobody]);
    const users = (n: number) => Array.from({ length: n }, () => ({ userId: randomUUID() }));
    const atLimit = await call(parley, 'POST', '/v1/keys/batch', { device: requester, body: { users: users(MAX_USERS_PER_BATCH) } });
    expect(atLimit.body.missing).toHaveLength(MAX_USERS_PER_BATCH);
    const past = await call(parley, 'POST', '/v1/keys/batch', { device: requester, body: { users: users(MAX_USERS_PER_BATCH + 1) } });
    expect(past.status).toBe(400);
    expect(past.body.error.message).toContain('users');
  });

  it('answers FETCH_KEYS with KEYS, for up to 8 users a frame', async () => {
    const { device, keys } = await deviceWithKeys(2);
    const socket = await connectDevice(parley, await newDevice());
    const users = (n: number) => [{ userId: device.userId }, ...Array.from({ length: n - 1 }, () => ({ userId: randomUUID() }))];
    const answer = await request(socket, { action: 'FETCH_KEYS', users: users(MAX_USERS_PER_FETCH_FRAME) });
    expect(answer).toMatchObject({ type: 'KEYS', missing: expect.any(Array) });
    expect(answer.bundles[0].devices[0]).toMatchObject({ identityKey: keys.identityKey, prekey: { keyId: expect.any(Number) } });
    expect(await request(socket, { action: 'FETCH_KEYS', users: users(MAX_USERS_PER_FETCH_FRAME + 1) })).toMatchObject({
      type: 'ERROR',
      code: 'BAD_REQUEST',
    });
    await socket.close();
  });

  it('refuses fetches without credentials', async () => {
    const { device } = await deviceWithKeys(1);
    expect((await call(parley, 'GET', `/v1/keys/${device.userId}`)).status).toBe(401);
    expect(await count(device)).toEqual({ oneTimePrekeys: 1, kyberPrekeys: 1 });
  });
});

describe('running low', () => {
  const isLowNotice = (frame: any) => frame.type === 'PREKEYS_LOW';

  it('tells the live device once a fetch leaves fewer than 10 one-time prekeys, and not again until it uploads', async () => {
    const { device, keys } = await deviceWithKeys(11);
    const socket = await connectDevice(parley, device);
    const requesters = await Promise.all([newDevice(), newDevice(), newDevice()]);
    await fetchKeys(requesters[0]!, device);
    await expect(socket.next(isLowNotice, 300)).rejects.toThrow('no matching frame');
    await fetchKeys(requesters[1]!, device);
    const notice = await socket.next(isLowNotice);
    expect(notice).toMatchObject({ oneTimePrekeys: 9, kyberPrekeys: 9, noticeId: expect.any(String) });
    await fetchKeys(requesters[2]!, device);
    await expect(socket.next(isLowNotice, 300)).rejects.toThrow('no matching frame');
    // Uploading more ends the episode: the next fetch that leaves few tells the device again.
    expect((await upload(device, keys.prekeyBatch(1, 500))).body).toEqual({ oneTimePrekeys: 9, kyberPrekeys: 9 });
    await fetchKeys(requesters[0]!, device);
    expect(await socket.next(isLowNotice)).toMatchObject({ oneTimePrekeys: 8, kyberPrekeys: 8 });
    await socket.close();
  });

  it('tells an offline device with its next SYNC, until it acknowledges the notice', async () => {
    const { device } = await deviceWithKeys(5);
    await fetchKeys(await newDevice(), device);
    const socket = await connectDevice(parley, device);
    const [notice] = (await syncQueue(socket)).filter(isLowNotice);
    expect(notice).toMatchObject({ oneTimePrekeys: 4, kyberPrekeys: 4 });
    expect(await request(socket, { action: 'DELIVERED', cursors: [notice.cursor] })).toMatchObject({ type: 'DELIVERED_ACK' });
    expect((await syncQueue(socket)).filter(isLowNotice)).toEqual([]);
    await socket.close();
  });
});

describe('devices that leave', () => {
  it('deletes a removed device’s keys', async () => {
    const { device: phone } = await deviceWithKeys(1);
    const tablet = await linkDeviceWithoutKeys(parley, phone, 'Tablet');
    await upload(tablet, new DeviceKeyMaterial().firstUpload(tablet, 5));
    expect((await call(parley, 'DELETE', `/v1/devices/${tablet.deviceId}`, { device: phone })).status).toBe(204);
    const fetched = await fetchKeys(await newDevice(), phone);
    expect(fetched.body.devices.map((bundle: DeviceBundle) => bundle.deviceId)).toEqual([1]);
    // The id's next holder starts without keys, and uploads its own identity.
    const next = await linkDeviceWithoutKeys(parley, phone, 'New tablet');
    expect(next.deviceId).toBe(tablet.deviceId);
    expect(await count(next)).toEqual({ oneTimePrekeys: 0, kyberPrekeys: 0 });
    expect((await upload(next, new DeviceKeyMaterial().firstUpload(next, 1))).status).toBe(200);
  });

  it('shows peers a new identity key after the number registers again', async () => {
    const phoneNumber = newPhone();
    const old = await registerAccountWithoutKeys(parley, phoneNumber);
    const oldKeys = new DeviceKeyMaterial();
    await upload(old, oldKeys.firstUpload(old, 1));
    await forgetCodeRequests(parley, phoneNumber);
    const reinstalled = await registerAccountWithoutKeys(parley, phoneNumber);
    const requester = await newDevice();
    expect((await fetchKeys(requester, reinstalled)).status).toBe(404);
    const newKeys = new DeviceKeyMaterial();
    expect((await upload(reinstalled, newKeys.firstUpload(reinstalled, 1))).status).toBe(200);
    const bundle = (await fetchKeys(requester, reinstalled)).body.devices[0];
    expect(bundle.identityKey).toBe(newKeys.identityKey);
    expect(bundle.identityKey).not.toBe(oldKeys.identityKey);
  });
});

describe('rate limits', () => {
  afterEach(() => {
    stoppedAt = undefined;
  });

  it(`lets a device fetch one user ${FETCHES_PER_USER.burst} times at once, then refuses and takes nothing`, async () => {
    const { device } = await deviceWithKeys(20);
    const requester = await newDevice();
    // The clock stands still, so the bucket refills nothing between fetches however slow the machine is.
    stoppedAt = Date.now();
    for (let i = 0; i < FETCHES_PER_USER.burst; i++) expect((await fetchKeys(requester, device)).status).toBe(200);
    const refused = await fetchKeys(requester, device);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: FETCHES_PER_USER.refillMs / 1000 });
    expect(await count(device)).toEqual({ oneTimePrekeys: 20 - FETCHES_PER_USER.burst, kyberPrekeys: 20 - FETCHES_PER_USER.burst });
    // Other requesters are not limited by it, nor is this one for other users.
    expect((await fetchKeys(await newDevice(), device)).status).toBe(200);
    expect((await fetchKeys(requester, randomUUID())).status).toBe(404);
  });

  it(`lets a device fetch ${FETCHES_PER_DEVICE.burst} users at once, then refuses until a token comes back`, async () => {
    const requester = await newDevice();
    stoppedAt = Date.now();
    // 1,499 of the 1,500 tokens spent at once, as 24 batches of users would spend them, only faster.
    const budget = `device:${requester.userId}.${requester.deviceId}`;
    expect(await spendTokens(depsOf('fetchKeysBatch'), budget, FETCHES_PER_DEVICE.burst - 1, FETCHES_PER_DEVICE)).toEqual({ allowed: true });
    const batch = (n: number) =>
      call(parley, 'POST', '/v1/keys/batch', { device: requester, body: { users: Array.from({ length: n }, () => ({ userId: randomUUID() })) } });
    const past = await batch(2);
    expect(past.status).toBe(429);
    expect(past.body.error.retryAfterSeconds).toBe(Math.ceil(FETCHES_PER_DEVICE.refillMs / 1000));
    expect((await batch(1)).status).toBe(200);
    const refused = await batch(1);
    expect(refused.status).toBe(429);
    stoppedAt += FETCHES_PER_DEVICE.refillMs;
    expect((await batch(1)).status).toBe(200);
  });
});
