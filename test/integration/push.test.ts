/**
 * Silent push through the local stack: a device registers a push token over HTTP, and while it is
 * offline a message to it is queued and wakes it with one content-free push through the SNS endpoint.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { GetEndpointAttributesCommand, SetEndpointAttributesCommand } from '@aws-sdk/client-sns';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { directConversationId } from '../../lambdas/send/conversations';
import type { PushRegistration } from '../../lambdas/tables/devices';
import { call, connectDevice, linkDevice, registerAccount, type DeviceSocket, type TestDevice } from '../support/device-client';

let parley: ParleyLocal;
/** How far the handlers' clock runs ahead of the real one: lets a test step past the wake-up interval. */
let clockOffset = 0;
let alice: TestDevice;
let sender: DeviceSocket;
/** Bob's devices as the server knows them now: every SEND addresses each of them. */
let bob: TestDevice[];
let seq = 0;

beforeAll(async () => {
  parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0, now: () => Date.now() + clockOffset });
  alice = await registerAccount(parley, '+14155550401');
  const bobPhone = await registerAccount(parley, '+14155550402');
  bob = [bobPhone, await linkDevice(parley, bobPhone, 'Tablet'), await linkDevice(parley, bobPhone, 'Laptop')];
  sender = await connectDevice(parley, alice);
});
afterAll(async () => {
  await sender?.close();
  await parley?.stop();
});

const apnsToken = () => randomBytes(32).toString('hex');
const fcmToken = () => `${randomBytes(8).toString('base64url')}:APA91b${randomBytes(100).toString('base64url')}`;

const registerToken = (device: TestDevice, body: unknown) => call(parley, 'PUT', '/v1/devices/self/push', { device, body });

async function pushOf(device: TestDevice): Promise<PushRegistration | undefined> {
  const { Item } = await parley.clients.db.send(
    new GetCommand({ TableName: parley.resources.tables.devices, Key: { userId: device.userId, deviceId: device.deviceId } }),
  );
  return Item?.push as PushRegistration | undefined;
}

async function endpointOf(device: TestDevice): Promise<string> {
  const push = await pushOf(device);
  if (!push) throw new Error(`device ${device.deviceId} has no push endpoint`);
  return push.endpointArn;
}

const endpointExists = async (endpointArn: string) =>
  parley.clients.sns.send(new GetEndpointAttributesCommand({ EndpointArn: endpointArn })).then(
    () => true,
    (error: Error) => (error.name === 'NotFoundException' ? false : Promise.reject(error)),
  );

const pushesTo = (endpointArn: string, since = 0) =>
  parley.emulators.sns.outbox.filter((delivery) => delivery.kind === 'push' && delivery.to === endpointArn && delivery.at >= since);

/** Alice sends Bob a message, addressed to each of his devices; resolves once the fanout handled it. */
async function sendToBob(text = 'hello'): Promise<{ msgId: string; ciphertexts: string[] }> {
  const msgId = randomUUID();
  const envelopes = bob.map((device) => ({
    userId: device.userId,
    deviceId: device.deviceId,
    registrationId: device.registrationId,
    type: 'message',
    ciphertext: Buffer.from(`${text} for ${device.deviceId}`).toString('base64'),
  }));
  const requestId = randomUUID();
  const conversationId = directConversationId(alice.userId, bob[0]!.userId);
  sender.send({ action: 'SEND', requestId, msgId, conversationId, to: bob[0]!.userId, seq: ++seq, envelopes });
  expect(await sender.next((frame) => frame.requestId === requestId)).toMatchObject({ type: 'ACK', msgId });
  await parley.drainStreams();
  return { msgId, ciphertexts: envelopes.map((envelope) => envelope.ciphertext) };
}

async function queuedMsgIds(device: TestDevice): Promise<string[]> {
  const { Items = [] } = await parley.clients.db.send(
    new QueryCommand({
      TableName: parley.resources.tables.deviceQueues,
      KeyConditionExpression: 'device = :d',
      ExpressionAttributeValues: { ':d': `${device.userId}#${device.deviceId}` },
    }),
  );
  return Items.map((item) => (item.frame as { msgId: string }).msgId);
}

/** Connecting counts as being awake: the device may be woken again at once after it leaves. */
async function connectAndLeave(device: TestDevice): Promise<void> {
  await (await connectDevice(parley, device)).close();
}

describe('silent push', () => {
  it('wakes an offline device with one content-free push, after queueing the message', async () => {
    expect((await registerToken(bob[0]!, { platform: 'fcm', token: fcmToken() })).status).toBe(204);
    const endpointArn = await endpointOf(bob[0]!);
    const since = Date.now();

    const { msgId, ciphertexts } = await sendToBob('wake up');

    expect(await queuedMsgIds(bob[0]!)).toContain(msgId);
    const [push, ...more] = pushesTo(endpointArn, since);
    expect(more).toEqual([]);
    const fcm = JSON.parse(push!.payload).fcmV1Message.message;
    expect(fcm).toMatchObject({ data: { wake: '1' }, android: { priority: 'high' } });
    expect(fcm.notification).toBeUndefined();
    for (const secret of [msgId, alice.userId, bob[0]!.userId, ...ciphertexts]) expect(JSON.stringify(push)).not.toContain(secret);
  });

  it('sends an APNs device a background push', async () => {
    expect((await registerToken(bob[1]!, { platform: 'apnsSandbox', token: apnsToken() })).status).toBe(204);
    const endpointArn = await endpointOf(bob[1]!);
    const since = Date.now();

    await sendToBob();

    const [push] = pushesTo(endpointArn, since);
    expect(JSON.parse(push!.payload)).toEqual({ aps: { 'content-available': 1 } });
    expect(push!.attributes).toEqual({ 'AWS.SNS.MOBILE.APNS.PUSH_TYPE': 'background', 'AWS.SNS.MOBILE.APNS.PRIORITY': '5' });
  });

  it('wakes a device once for a burst of messages, and again once the interval has passed', async () => {
    await connectAndLeave(bob[0]!);
    const endpointArn = await endpointOf(bob[0]!);
    const since = Date.now();

    for (let i = 0; i < 5; i++) await sendToBob(`burst ${i}`);
    expect(pushesTo(endpointArn, since)).toHaveLength(1);

    clockOffset += 31_000;
    await sendToBob('later');
    expect(pushesTo(endpointArn, since)).toHaveLength(2);
  });

  it('wakes a device again at once once it has connected since the last wake-up', async () => {
    await connectAndLeave(bob[0]!);
    const endpointArn = await endpointOf(bob[0]!);
    const since = Date.now();
    await sendToBob('first');
    await connectAndLeave(bob[0]!);
    await sendToBob('second');
    expect(pushesTo(endpointArn, since)).toHaveLength(2);
  });

  it('does not push to a device that is online, nor to one without a token', async () => {
    const endpointArn = await endpointOf(bob[0]!);
    const online = await connectDevice(parley, bob[0]!);
    const pushesBefore = parley.emulators.sns.outbox.filter((delivery) => delivery.kind === 'push').length;
    clockOffset += 31_000;

    const { msgId } = await sendToBob('live');

    expect(await online.next((frame) => frame.type === 'PUSH' && frame.msgId === msgId)).toBeDefined();
    await online.close();
    expect(await pushOf(bob[2]!)).toBeUndefined();
    expect(await queuedMsgIds(bob[2]!)).toContain(msgId);
    // Bob's tablet, offline with a token, is the only device woken.
    const pushes = parley.emulators.sns.outbox.filter((delivery) => delivery.kind === 'push').slice(pushesBefore);
    expect(pushes.map((delivery) => delivery.to)).toEqual([await endpointOf(bob[1]!)]);
    expect(pushes.map((delivery) => delivery.to)).not.toContain(endpointArn);
  });

  it('forgets an endpoint SNS reports disabled, and the message still waits in the queue for SYNC', async () => {
    const endpointArn = await endpointOf(bob[0]!);
    await parley.clients.sns.send(new SetEndpointAttributesCommand({ EndpointArn: endpointArn, Attributes: { Enabled: 'false' } }));
    await connectAndLeave(bob[0]!);
    const since = Date.now();

    const { msgId } = await sendToBob('to a dead token');

    expect(pushesTo(endpointArn, since)).toEqual([]);
    expect(await pushOf(bob[0]!)).toBeUndefined();
    expect(await endpointExists(endpointArn)).toBe(false);
    expect(await queuedMsgIds(bob[0]!)).toContain(msgId);
  });

  it('re-enables a disabled endpoint when the device registers its token again', async () => {
    const token = fcmToken();
    await registerToken(bob[0]!, { platform: 'fcm', token });
    const endpointArn = await endpointOf(bob[0]!);
    await parley.clients.sns.send(new SetEndpointAttributesCommand({ EndpointArn: endpointArn, Attributes: { Enabled: 'false' } }));

    expect((await registerToken(bob[0]!, { platform: 'fcm', token })).status).toBe(204);

    expect(await endpointOf(bob[0]!)).toBe(endpointArn);
    const { Attributes } = await parley.clients.sns.send(new GetEndpointAttributesCommand({ EndpointArn: endpointArn }));
    expect(Attributes).toMatchObject({ Enabled: 'true', Token: token, CustomUserData: `${bob[0]!.userId}.1` });
  });

  it('deletes the old endpoint when the token changes, and forgets it on DELETE', async () => {
    const old = await endpointOf(bob[0]!);
    expect((await registerToken(bob[0]!, { platform: 'apns', token: apnsToken() })).status).toBe(204);
    const current = await endpointOf(bob[0]!);
    expect(current).not.toBe(old);
    expect(await endpointExists(old)).toBe(false);

    expect((await call(parley, 'DELETE', '/v1/devices/self/push', { device: bob[0]! })).status).toBe(204);
    expect((await call(parley, 'DELETE', '/v1/devices/self/push', { device: bob[0]! })).status).toBe(204);

    expect(await pushOf(bob[0]!)).toBeUndefined();
    expect(await endpointExists(current)).toBe(false);
  });

  it('refuses bad input with 400 and stores nothing, and a caller without credentials with 401', async () => {
    for (const body of [
      { platform: 'wns', token: fcmToken() },
      { platform: 'apns', token: 'ab'.repeat(31) },
      { platform: 'fcm', token: 'a'.repeat(4097) },
      { platform: 'fcm' },
    ]) {
      const answer = await registerToken(bob[2]!, body);
      expect({ body, status: answer.status, code: answer.body.error.code }).toEqual({ body, status: 400, code: 'BAD_REQUEST' });
    }
    expect(await pushOf(bob[2]!)).toBeUndefined();
    expect((await call(parley, 'PUT', '/v1/devices/self/push', { body: { platform: 'fcm', token: fcmToken() } })).status).toBe(401);
  });

  it('deletes a removed device’s endpoint; a device linked in its place starts without one', async () => {
    await registerToken(bob[2]!, { platform: 'fcm', token: fcmToken() });
    const endpointArn = await endpointOf(bob[2]!);

    expect((await call(parley, 'DELETE', `/v1/devices/${bob[2]!.deviceId}`, { device: bob[0]! })).status).toBe(204);
    expect(await endpointExists(endpointArn)).toBe(false);

    const relinked = await linkDevice(parley, bob[0]!, 'New laptop');
    expect(relinked.deviceId).toBe(bob[2]!.deviceId);
    expect(await pushOf(relinked)).toBeUndefined();
    bob[2] = relinked;
  });

  it('deletes the endpoints of an account’s devices when its number registers again; the new primary starts without one', async () => {
    const carol = await registerAccount(parley, '+14155550403');
    await registerToken(carol, { platform: 'apns', token: apnsToken() });
    const endpointArn = await endpointOf(carol);
    clockOffset += 61_000; // one verification code a minute per number

    const again = await registerAccount(parley, '+14155550403');

    expect(again).toMatchObject({ userId: carol.userId, deviceId: 1 });
    expect(await pushOf(again)).toBeUndefined();
    expect(await endpointExists(endpointArn)).toBe(false);
  });
});
