import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBDocumentClient, DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { createHash } from 'node:crypto';
import { handler as requestCode } from '../../lambdas/accounts/request-verification-code';
import { handler as register } from '../../lambdas/accounts/register-account';
import { handler as createLinkToken } from '../../lambdas/accounts/create-link-token';
import { handler as linkDevice } from '../../lambdas/accounts/link-device';
import { handler as listDevices } from '../../lambdas/accounts/list-devices';
import { handler as removeDevice } from '../../lambdas/accounts/remove-device';
import { handler as httpAuthorizer } from '../../lambdas/accounts/authorizer';
import { hashSecret } from '../../lambdas/accounts/device-secrets';
import { encodeDeviceCredentials } from '../../lambdas/protocol/credentials';
import { logger } from '../../lambdas/runtime/observability';
import { httpAuthorizerEvent, httpEvent, mockDeps, NOW, USER } from '../fixtures/aws-events';

const db = mockClient(DynamoDBDocumentClient);
const sns = mockClient(SNSClient);
const connections = mockClient(ApiGatewayManagementApiClient);
const deps = mockDeps();
const PHONE = '+14155550123';
const SECRET = 's'.repeat(43);
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
const body = (response: { body?: string }) => JSON.parse(response.body ?? 'null');
const device = (deviceId: number, primary = deviceId === 1) => ({
  userId: USER,
  deviceId,
  name: `Device ${deviceId}`,
  primary,
  createdAt: NOW,
  ...hashSecret(SECRET),
});
/** The SMS counters taken (ADD 1) and given back (ADD -1), in order. */
const countersOf = (taken: boolean) =>
  db
    .commandCalls(UpdateCommand)
    .map((call) => call.args[0].input)
    .filter((input) => input.TableName === 'parley-smsSendCounts' && input.UpdateExpression!.includes(':minusOne') !== taken)
    .map((input) => input.Key!.counter as string);
const counted = () => countersOf(true);
const givenBack = () => countersOf(false);
const codeHash = (code: string) => createHash('sha256').update(`${PHONE}:${code}`).digest('base64');

beforeEach(() => {
  db.reset();
  sns.reset();
  connections.reset();
  // Devices that leave, or whose id is given anew, lose their keys; these devices have no one-time prekeys.
  db.on(QueryCommand).resolves({ Items: [] });
});

describe('requestVerificationCode', () => {
  const run = requestCode.withDeps(deps);

  it('counts the SMS, stores the hashed code, then texts it as a transactional SMS; the response never carries it', async () => {
    const order: string[] = [];
    db.on(GetCommand).resolves({});
    db.on(UpdateCommand).callsFake(() => (order.push('count'), {}));
    db.on(PutCommand).callsFake(() => (order.push('store'), {}));
    sns.on(PublishCommand).callsFake(() => (order.push('text'), { MessageId: 'm1' }));
    const response = await run(httpEvent('POST /v1/verification/code', { body: { phoneNumber: PHONE } }));
    expect(response.statusCode).toBe(202);
    const sms = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(sms.PhoneNumber).toBe(PHONE);
    expect(sms.TopicArn ?? sms.TargetArn).toBeUndefined();
    expect(sms.MessageAttributes).toEqual({ 'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' } });
    const code = /(\d{6})/.exec(sms.Message!)![1]!;
    expect(response.body).not.toContain(code);
    const stored = db.commandCalls(PutCommand)[0]!.args[0].input.Item!;
    expect(stored).toMatchObject({ phoneNumber: PHONE, codeHash: codeHash(code), attemptsLeft: 3, sentAt: [NOW] });
    expect(JSON.stringify(stored)).not.toContain(code);
    expect(order).toEqual(['count', 'count', 'count', 'store', 'text']);
    expect(counted()).toEqual([
      'sourceIp#203.0.113.7#2026-11-29T12:00:00.000Z',
      'numberPrefix#+141555#2026-11-29T12:00:00.000Z',
      'day#2026-11-29',
    ]);
  });

  it.each([
    ['source address', 0, 3600, 'network'],
    ['number prefix', 1, 3600, 'range'],
    ['daily budget', 2, 12 * 3600, 'today'],
  ])('refuses with RATE_LIMITED when the %s is used up, gives back the counts it took, and texts nothing', async (_, full, retryAfterSeconds, says) => {
    db.on(GetCommand).resolves({});
    let counts = 0;
    db.on(UpdateCommand).callsFake((input: { UpdateExpression: string }) => {
      if (input.UpdateExpression.includes(':minusOne')) return {};
      if (counts++ === full) throw conditionFailed();
      return {};
    });
    const response = await run(httpEvent('POST /v1/verification/code', { body: { phoneNumber: PHONE } }));
    expect(response.statusCode).toBe(429);
    expect(body(response).error).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds, message: expect.stringContaining(says) });
    expect(givenBack()).toEqual(counted().slice(0, full));
    expect(db.commandCalls(PutCommand)).toHaveLength(0);
    expect(sns.calls()).toHaveLength(0);
  });

  it('logs a failed SMS without the number or the code', async () => {
    const logged = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    db.on(GetCommand).resolves({});
    db.on(UpdateCommand).resolves({});
    db.on(PutCommand).resolves({});
    sns.on(PublishCommand).rejects(Object.assign(new Error(`Invalid parameter: PhoneNumber Reason: ${PHONE} is not valid`), { name: 'InvalidParameterException' }));
    const response = await run(httpEvent('POST /v1/verification/code', { body: { phoneNumber: PHONE } }));
    expect(response.statusCode).toBe(500);
    const line = JSON.stringify(logged.mock.calls, (_, value: unknown) => (value instanceof Error ? `${value.name}: ${value.message} ${String(value.cause)}` : value));
    expect(line).toContain('InvalidParameterException');
    expect(line).not.toContain(PHONE.slice(1));
    const code = /(\d{6})/.exec(sns.commandCalls(PublishCommand)[0]!.args[0].input.Message!)![1]!;
    expect(line).not.toContain(code);
    logged.mockRestore();
  });

  it('counts an IPv6 source by its /64, where one subscriber may send from any address', async () => {
    db.on(GetCommand).resolves({});
    db.on(UpdateCommand).resolves({});
    db.on(PutCommand).resolves({});
    const event = httpEvent('POST /v1/verification/code', { body: { phoneNumber: PHONE } });
    event.requestContext.http.sourceIp = '2001:db8:85a3:7:8a2e:370:7334:1';
    expect((await run(event)).statusCode).toBe(202);
    expect(counted()[0]).toBe('sourceIp#2001:db8:85a3:7::/64#2026-11-29T12:00:00.000Z');
  });

  it('refuses a second code within a minute, with the seconds to wait', async () => {
    db.on(GetCommand).resolves({ Item: { phoneNumber: PHONE, sentAt: [NOW - 20_000], version: 1, attemptsLeft: 3, codeExpiresAt: NOW } });
    const response = await run(httpEvent('POST /v1/verification/code', { body: { phoneNumber: PHONE } }));
    expect(response.statusCode).toBe(429);
    expect(body(response).error).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 40 });
    expect(sns.calls()).toHaveLength(0);
  });

  it('refuses a sixth code within a day', async () => {
    const sentAt = [5, 4, 3, 2, 1].map((hours) => NOW - hours * 3_600_000);
    db.on(GetCommand).resolves({ Item: { phoneNumber: PHONE, sentAt, version: 5, attemptsLeft: 3, codeExpiresAt: NOW } });
    const response = await run(httpEvent('POST /v1/verification/code', { body: { phoneNumber: PHONE } }));
    expect(response.statusCode).toBe(429);
    expect(body(response).error.retryAfterSeconds).toBe(19 * 3600);
  });

  it('sends nothing, and gives back its counts, when a concurrent request stored a code first', async () => {
    db.on(GetCommand).resolves({});
    db.on(UpdateCommand).resolves({});
    db.on(PutCommand).rejects(conditionFailed());
    const response = await run(httpEvent('POST /v1/verification/code', { body: { phoneNumber: PHONE } }));
    expect(response.statusCode).toBe(429);
    expect(givenBack()).toEqual(counted());
    expect(sns.calls()).toHaveLength(0);
  });

  it.each([['4155550123'], ['+0123456789'], ['+1 415 555 0123']])('refuses the malformed number %s with 400', async (phoneNumber) => {
    const response = await run(httpEvent('POST /v1/verification/code', { body: { phoneNumber } }));
    expect(response.statusCode).toBe(400);
    expect(body(response).error.message).toContain('phoneNumber');
    expect(db.calls()).toHaveLength(0);
  });

  it('refuses a body that is not JSON with 400', async () => {
    const response = await run(httpEvent('POST /v1/verification/code', { body: '{"phoneNumber":' }));
    expect(response.statusCode).toBe(400);
    expect(body(response).error).toEqual({ code: 'BAD_REQUEST', message: 'The request body is not valid JSON' });
  });
});

describe('registerAccount', () => {
  const run = register.withDeps(deps);
  const registration = { phoneNumber: PHONE, code: '123456', deviceSecret: SECRET, deviceName: 'Phone' };
  const pending = { phoneNumber: PHONE, codeHash: codeHash('123456'), codeExpiresAt: NOW + 60_000, attemptsLeft: 3, sentAt: [NOW], version: 1 };

  it('creates the account and primary device 1, storing only a salted hash of the secret', async () => {
    db.on(UpdateCommand).callsFake((input: { UpdateExpression: string }) =>
      input.UpdateExpression.includes('attemptsLeft') ? { Attributes: { ...pending, attemptsLeft: 2 } } : {},
    );
    db.on(PutCommand).resolves({});
    db.on(QueryCommand).resolves({ Items: [] });
    const response = await run(httpEvent('POST /v1/accounts', { body: registration }));
    expect(response.statusCode).toBe(201);
    const { userId, deviceId } = body(response);
    expect(deviceId).toBe(1);
    const puts = db.commandCalls(PutCommand).map((call) => call.args[0].input);
    expect(puts[0]!.Item).toMatchObject({ phoneNumber: PHONE, userId });
    expect(puts[1]!.Item).toMatchObject({ userId, deviceId: 1, primary: true, name: 'Phone' });
    expect(JSON.stringify(puts)).not.toContain(SECRET);
  });

  it('spends the attempt before it compares, and refuses a wrong code saying how many attempts are left', async () => {
    db.on(UpdateCommand).resolves({ Attributes: { ...pending, attemptsLeft: 2 } });
    const response = await run(httpEvent('POST /v1/accounts', { body: { ...registration, code: '654321' } }));
    expect(response.statusCode).toBe(403);
    expect(body(response).error).toMatchObject({ code: 'INVALID_CODE', attemptsLeft: 2 });
    const attempt = db.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(attempt).toMatchObject({
      ConditionExpression: 'attribute_exists(codeHash) AND attemptsLeft > :zero AND codeExpiresAt > :now',
      ExpressionAttributeValues: expect.objectContaining({ ':now': NOW }),
      ReturnValues: 'ALL_NEW',
    });
    expect(db.commandCalls(UpdateCommand)).toHaveLength(1);
    expect(db.commandCalls(GetCommand)).toHaveLength(0);
    expect(db.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('refuses with 410 EXPIRED, right code or not, when no attempt is left, the code expired or was used', async () => {
    db.on(UpdateCommand).rejects(conditionFailed());
    const response = await run(httpEvent('POST /v1/accounts', { body: registration }));
    expect(response.statusCode).toBe(410);
    expect(body(response).error.code).toBe('EXPIRED');
    expect(db.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('refuses with 410 a right code that a racing registration used first', async () => {
    db.on(UpdateCommand).callsFake((input: { UpdateExpression: string }) => {
      if (input.UpdateExpression.includes('attemptsLeft')) return { Attributes: { ...pending, attemptsLeft: 1 } };
      throw conditionFailed();
    });
    const response = await run(httpEvent('POST /v1/accounts', { body: registration }));
    expect(response.statusCode).toBe(410);
    expect(db.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('refuses a weak device secret before touching anything', async () => {
    const response = await run(httpEvent('POST /v1/accounts', { body: { ...registration, deviceSecret: 'short' } }));
    expect(response.statusCode).toBe(400);
    expect(body(response).error.message).toContain('deviceSecret');
    expect(db.calls()).toHaveLength(0);
  });
});

describe('createLinkToken', () => {
  it('stores only the hash of a 256-bit token that expires in five minutes', async () => {
    db.on(QueryCommand).resolves({ Items: [device(1)] });
    db.on(PutCommand).resolves({});
    const response = await createLinkToken.withDeps(deps)(httpEvent('POST /v1/devices/link-token', { caller: { userId: USER, deviceId: 1 } }));
    expect(response.statusCode).toBe(201);
    const { linkToken, expiresAt } = body(response);
    expect(linkToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(expiresAt).toBe(NOW + 5 * 60_000);
    const stored = db.commandCalls(PutCommand)[0]!.args[0].input.Item!;
    expect(stored).toEqual({ tokenHash: createHash('sha256').update(linkToken).digest('base64url'), userId: USER, issuedBy: 1, expiresAt: (NOW + 300_000) / 1000 });
  });

  it('refuses when the account already has five devices', async () => {
    db.on(QueryCommand).resolves({ Items: [1, 2, 3, 4, 5].map((id) => device(id)) });
    const response = await createLinkToken.withDeps(deps)(httpEvent('POST /v1/devices/link-token', { caller: { userId: USER, deviceId: 1 } }));
    expect(response.statusCode).toBe(409);
    expect(body(response).error.code).toBe('TOO_MANY_DEVICES');
  });
});

describe('linkDevice', () => {
  const run = linkDevice.withDeps(deps);
  const token = { tokenHash: 'h', userId: USER, issuedBy: 1, expiresAt: NOW / 1000 + 60 };
  const linking = { linkToken: 't'.repeat(43), deviceSecret: SECRET, deviceName: 'Laptop' };

  it('takes the lowest free device id', async () => {
    db.on(DeleteCommand).resolves({ Attributes: token });
    db.on(GetCommand).resolves({ Item: device(1) });
    db.on(QueryCommand, { TableName: 'parley-devices' }).resolves({ Items: [device(1), device(2)] });
    db.on(PutCommand).resolves({});
    const response = await run(httpEvent('POST /v1/devices/link', { body: linking }));
    expect(response.statusCode).toBe(201);
    expect(body(response)).toEqual({ userId: USER, deviceId: 3 });
    expect(db.commandCalls(PutCommand)[0]!.args[0].input).toMatchObject({
      ConditionExpression: 'attribute_not_exists(#key)',
      ExpressionAttributeNames: { '#key': 'userId' },
    });
  });

  it('moves on to the next id when a concurrent link took one', async () => {
    db.on(DeleteCommand).resolves({ Attributes: token });
    db.on(GetCommand).resolves({ Item: device(1) });
    db.on(QueryCommand, { TableName: 'parley-devices' }).resolves({ Items: [device(1)] });
    db.on(PutCommand).rejectsOnce(conditionFailed()).resolves({});
    expect(body(await run(httpEvent('POST /v1/devices/link', { body: linking })))).toEqual({ userId: USER, deviceId: 3 });
  });

  it('refuses an expired token with 410', async () => {
    db.on(DeleteCommand).resolves({ Attributes: { ...token, expiresAt: NOW / 1000 - 1 } });
    const response = await run(httpEvent('POST /v1/devices/link', { body: linking }));
    expect(response.statusCode).toBe(410);
    expect(db.commandCalls(PutCommand)).toHaveLength(0);
  });
});

describe('listDevices and removeDevice', () => {
  it('lists devices without their secret hashes', async () => {
    db.on(QueryCommand).resolves({ Items: [device(1), device(2)] });
    const response = await listDevices.withDeps(deps)(httpEvent('GET /v1/devices', { caller: { userId: USER, deviceId: 2 } }));
    expect(body(response).devices).toEqual([
      { deviceId: 1, name: 'Device 1', primary: true, createdAt: NOW },
      { deviceId: 2, name: 'Device 2', primary: false, createdAt: NOW },
    ]);
  });

  const remove = (caller: number, target: string) =>
    removeDevice.withDeps(deps)(httpEvent('DELETE /v1/devices/{deviceId}', { caller: { userId: USER, deviceId: caller }, pathParameters: { deviceId: target } }));

  it('lets the primary remove a linked device', async () => {
    db.on(GetCommand, { Key: { userId: USER, deviceId: 1 } }).resolves({ Item: device(1) });
    db.on(GetCommand, { Key: { userId: USER, deviceId: 3 } }).resolves({ Item: device(3) });
    db.on(DeleteCommand).resolves({});
    expect((await remove(1, '3')).statusCode).toBe(204);
    expect(db.commandCalls(DeleteCommand)[0]!.args[0].input.Key).toEqual({ userId: USER, deviceId: 3 });
    expect(db.commandCalls(DeleteCommand, { TableName: 'parley-deviceKeys' })[0]!.args[0].input.Key).toEqual({ userId: USER, deviceId: 3 });
    expect(db.commandCalls(QueryCommand, { TableName: 'parley-oneTimePrekeys' })[0]!.args[0].input.ExpressionAttributeValues).toEqual({ ':d': `${USER}#3` });
  });

  it('forbids a linked device to remove another', async () => {
    db.on(GetCommand).callsFake((input) => ({ Item: device(input.Key.deviceId) }));
    expect((await remove(2, '3')).statusCode).toBe(403);
    expect(db.commandCalls(DeleteCommand)).toHaveLength(0);
  });

  it('forbids removing the primary device', async () => {
    db.on(GetCommand).callsFake((input) => ({ Item: device(input.Key.deviceId) }));
    expect((await remove(1, '1')).statusCode).toBe(403);
  });

  it('answers 404 for a device the account does not have and 400 for a malformed id', async () => {
    db.on(GetCommand).resolves({});
    expect((await remove(1, '4')).statusCode).toBe(404);
    expect((await remove(1, 'abc')).statusCode).toBe(400);
  });
});

describe('httpAuthorizer', () => {
  it('authorizes the right secret with the device as context, and not a wrong one', async () => {
    db.on(GetCommand).resolves({ Item: device(2) });
    const run = httpAuthorizer.withDeps(deps);
    const good = await run(httpAuthorizerEvent({ authorization: encodeDeviceCredentials({ userId: USER, deviceId: 2, secret: SECRET }) }));
    expect(good).toEqual({ isAuthorized: true, context: { userId: USER, deviceId: 2 } });
    const bad = await run(httpAuthorizerEvent({ authorization: encodeDeviceCredentials({ userId: USER, deviceId: 2, secret: 'x'.repeat(43) }) }));
    expect(bad).toEqual({ isAuthorized: false });
  });
});
