import { mockClient } from 'aws-sdk-client-mock';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient, DeleteCommand, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  CreatePlatformEndpointCommand,
  DeleteEndpointCommand,
  EndpointDisabledException,
  GetEndpointAttributesCommand,
  InvalidParameterException,
  NotFoundException,
  PublishCommand,
  SetEndpointAttributesCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { handler as registerPushToken } from '../../lambdas/push/register-push-token';
import { handler as unregisterPushToken } from '../../lambdas/push/unregister-push-token';
import { handler as removeDevice } from '../../lambdas/accounts/remove-device';
import { handler as fanout } from '../../lambdas/fanout/fanout';
import { logger } from '../../lambdas/runtime/observability';
import { mayBeDueWakeUp, WAKE_UP_INTERVAL_MS } from '../../lambdas/push/wake-device';
import { httpEvent, kinesisRecord, mockDeps, NOW, PUSH_APPLICATIONS, USER } from '../fixtures/aws-events';

const db = mockClient(DynamoDBDocumentClient);
const sns = mockClient(SNSClient);
const connections = mockClient(ApiGatewayManagementApiClient);
const deps = mockDeps(NOW, PUSH_APPLICATIONS);
const caller = { userId: USER, deviceId: 2 };
const OWNER = `${USER}.2`;
const APNS_TOKEN = 'AB'.repeat(32);
const FCM_TOKEN = `dXk1:APA91b${'x'.repeat(140)}`;
const endpointArn = (platform: string, id: string) => `arn:aws:sns:us-east-1:123456789012:endpoint/${platform}/parley/${id}`;
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
const body = (response: { body?: string }) => JSON.parse(response.body ?? 'null');

beforeEach(() => {
  db.reset();
  sns.reset();
  connections.reset();
});

const register = (payload: unknown, withDeps = deps) =>
  registerPushToken.withDeps(withDeps)(httpEvent('PUT /v1/devices/self/push', { caller, body: payload }));

describe('registerPushToken', () => {
  it('creates an endpoint on the platform’s application, owned by the device and enabled, and stores it on the device', async () => {
    sns.on(CreatePlatformEndpointCommand).resolves({ EndpointArn: endpointArn('APNS', 'e1') });
    sns.on(SetEndpointAttributesCommand).resolves({});
    db.on(UpdateCommand).resolves({});

    const response = await register({ platform: 'apns', token: APNS_TOKEN });

    expect(response.statusCode).toBe(204);
    const token = APNS_TOKEN.toLowerCase();
    expect(sns.commandCalls(CreatePlatformEndpointCommand)[0]!.args[0].input).toEqual({
      PlatformApplicationArn: PUSH_APPLICATIONS.apns,
      Token: token,
      CustomUserData: OWNER,
    });
    expect(sns.commandCalls(SetEndpointAttributesCommand)[0]!.args[0].input).toEqual({
      EndpointArn: endpointArn('APNS', 'e1'),
      Attributes: { Token: token, Enabled: 'true', CustomUserData: OWNER },
    });
    expect(db.commandCalls(UpdateCommand)[0]!.args[0].input).toMatchObject({
      TableName: 'parley-devices',
      Key: { userId: USER, deviceId: 2 },
      UpdateExpression: 'SET push = :push',
      ConditionExpression: 'attribute_exists(userId)',
      ExpressionAttributeValues: { ':push': { platform: 'apns', endpointArn: endpointArn('APNS', 'e1'), registeredAt: NOW } },
    });
  });

  it('takes over the endpoint SNS already has for the token with other attributes (another device’s, or disabled)', async () => {
    const existing = endpointArn('GCM', 'e0');
    sns.on(CreatePlatformEndpointCommand).rejects(
      new InvalidParameterException({
        message: `Invalid parameter: Token Reason: Endpoint ${existing} already exists with the same Token, but different attributes.`,
        $metadata: {},
      }),
    );
    sns.on(SetEndpointAttributesCommand).resolves({});
    db.on(UpdateCommand).resolves({});

    expect((await register({ platform: 'fcm', token: FCM_TOKEN })).statusCode).toBe(204);

    expect(sns.commandCalls(SetEndpointAttributesCommand)[0]!.args[0].input).toEqual({
      EndpointArn: existing,
      Attributes: { Token: FCM_TOKEN, Enabled: 'true', CustomUserData: OWNER },
    });
    expect(db.commandCalls(UpdateCommand)[0]!.args[0].input.ExpressionAttributeValues![':push'].endpointArn).toBe(existing);
  });

  it('is idempotent: the same token again keeps its endpoint and deletes nothing', async () => {
    sns.on(CreatePlatformEndpointCommand).resolves({ EndpointArn: endpointArn('APNS', 'e1') });
    sns.on(SetEndpointAttributesCommand).resolves({});
    db.on(UpdateCommand).resolves({ Attributes: { push: { platform: 'apns', endpointArn: endpointArn('APNS', 'e1'), registeredAt: NOW - 1 } } });

    expect((await register({ platform: 'apns', token: APNS_TOKEN })).statusCode).toBe(204);
    expect((await register({ platform: 'apns', token: APNS_TOKEN.toLowerCase() })).statusCode).toBe(204);

    expect(new Set(sns.commandCalls(CreatePlatformEndpointCommand).map((call) => call.args[0].input.Token))).toEqual(
      new Set([APNS_TOKEN.toLowerCase()]),
    );
    expect(sns.commandCalls(GetEndpointAttributesCommand)).toHaveLength(0);
    expect(sns.commandCalls(DeleteEndpointCommand)).toHaveLength(0);
  });

  it('deletes the endpoint of the token it replaces, which the device owns', async () => {
    const old = endpointArn('APNS', 'e0');
    sns.on(CreatePlatformEndpointCommand).resolves({ EndpointArn: endpointArn('GCM', 'e1') });
    sns.on(SetEndpointAttributesCommand).resolves({});
    sns.on(GetEndpointAttributesCommand).resolves({ Attributes: { Token: 'old', Enabled: 'true', CustomUserData: OWNER } });
    sns.on(DeleteEndpointCommand).resolves({});
    db.on(UpdateCommand).resolves({ Attributes: { push: { platform: 'apns', endpointArn: old, registeredAt: NOW - 1 } } });

    expect((await register({ platform: 'fcm', token: FCM_TOKEN })).statusCode).toBe(204);

    expect(sns.commandCalls(GetEndpointAttributesCommand)[0]!.args[0].input).toEqual({ EndpointArn: old });
    expect(sns.commandCalls(DeleteEndpointCommand).map((call) => call.args[0].input)).toEqual([{ EndpointArn: old }]);
  });

  it('leaves the replaced endpoint alone when its token has moved to another device', async () => {
    sns.on(CreatePlatformEndpointCommand).resolves({ EndpointArn: endpointArn('GCM', 'e1') });
    sns.on(SetEndpointAttributesCommand).resolves({});
    sns.on(GetEndpointAttributesCommand).resolves({ Attributes: { Enabled: 'true', CustomUserData: `${USER}.3` } });
    db.on(UpdateCommand).resolves({ Attributes: { push: { platform: 'fcm', endpointArn: endpointArn('GCM', 'e0'), registeredAt: 1 } } });

    expect((await register({ platform: 'fcm', token: FCM_TOKEN })).statusCode).toBe(204);
    expect(sns.commandCalls(DeleteEndpointCommand)).toHaveLength(0);
  });

  it('refuses when the device was removed meanwhile, and deletes the endpoint it made', async () => {
    sns.on(CreatePlatformEndpointCommand).resolves({ EndpointArn: endpointArn('GCM', 'e1') });
    sns.on(SetEndpointAttributesCommand).resolves({});
    sns.on(GetEndpointAttributesCommand).resolves({ Attributes: { CustomUserData: OWNER } });
    sns.on(DeleteEndpointCommand).resolves({});
    db.on(UpdateCommand).rejects(conditionFailed());

    const response = await register({ platform: 'fcm', token: FCM_TOKEN });

    expect(response.statusCode).toBe(403);
    expect(sns.commandCalls(DeleteEndpointCommand)[0]!.args[0].input).toEqual({ EndpointArn: endpointArn('GCM', 'e1') });
  });

  it.each([
    ['an APNs token of 32 bytes', 'apns', 'ab'.repeat(32)],
    ['an APNs token of 100 bytes', 'apnsSandbox', 'AB'.repeat(100)],
    ['an FCM token of 4096 characters', 'fcm', 'a'.repeat(4096)],
  ])('accepts %s, the limit', async (_, platform, token) => {
    sns.on(CreatePlatformEndpointCommand).resolves({ EndpointArn: endpointArn('GCM', 'e1') });
    sns.on(SetEndpointAttributesCommand).resolves({});
    db.on(UpdateCommand).resolves({});
    expect((await register({ platform, token })).statusCode).toBe(204);
  });

  it.each([
    ['an unknown platform', { platform: 'wns', token: 'abc' }, 'platform: one of'],
    ['no platform', { token: APNS_TOKEN }, 'platform: one of'],
    ['no token', { platform: 'fcm' }, 'token'],
    ['an empty FCM token', { platform: 'fcm', token: '' }, 'token'],
    ['an FCM token one past 4096 characters', { platform: 'fcm', token: 'a'.repeat(4097) }, 'token'],
    ['an FCM token with a space', { platform: 'fcm', token: 'abc def' }, 'token'],
    ['an APNs token one byte short of 32', { platform: 'apns', token: 'ab'.repeat(31) }, 'token'],
    ['an APNs token one byte past 100', { platform: 'apns', token: 'ab'.repeat(101) }, 'token'],
    ['an APNs token of odd length', { platform: 'apns', token: `${'ab'.repeat(32)}a` }, 'token'],
    ['an APNs token that is not hexadecimal', { platform: 'apns', token: 'zz'.repeat(32) }, 'token'],
    ['an FCM token given as APNs', { platform: 'apns', token: FCM_TOKEN }, 'token'],
    ['an unknown field', { platform: 'fcm', token: FCM_TOKEN, userId: USER }, 'Unrecognized key'],
  ])('refuses %s with 400, stores nothing and does not echo the token', async (_, payload, named) => {
    const response = await register(payload);
    expect(response.statusCode).toBe(400);
    expect(body(response).error.code).toBe('BAD_REQUEST');
    expect(body(response).error.message).toContain(named);
    if ('token' in payload && payload.token) expect(response.body).not.toContain(payload.token);
    expect(sns.calls()).toHaveLength(0);
    expect(db.calls()).toHaveLength(0);
  });

  it('refuses a platform the deployment has no application for with 422 PUSH_UNAVAILABLE, naming those it has', async () => {
    const response = await register({ platform: 'apns', token: APNS_TOKEN }, mockDeps(NOW, { fcm: PUSH_APPLICATIONS.fcm }));
    expect(response.statusCode).toBe(422);
    expect(body(response).error).toMatchObject({ code: 'PUSH_UNAVAILABLE', platforms: ['fcm'] });
    expect(sns.calls()).toHaveLength(0);
    expect(db.calls()).toHaveLength(0);
  });

  it('refuses every platform when push is off', async () => {
    const response = await register({ platform: 'fcm', token: FCM_TOKEN }, mockDeps(NOW));
    expect(response.statusCode).toBe(422);
    expect(body(response).error).toMatchObject({ code: 'PUSH_UNAVAILABLE', platforms: [], message: expect.stringContaining('push is off') });
  });

  it('never logs the token, even when SNS fails', async () => {
    const logged = [jest.spyOn(logger, 'info'), jest.spyOn(logger, 'warn'), jest.spyOn(logger, 'error')];
    try {
      sns.on(CreatePlatformEndpointCommand).resolves({ EndpointArn: endpointArn('GCM', 'e1') });
      sns.on(SetEndpointAttributesCommand).resolves({});
      db.on(UpdateCommand).resolves({});
      await register({ platform: 'fcm', token: FCM_TOKEN });
      sns.on(CreatePlatformEndpointCommand).rejects(new Error('SNS is down'));
      expect((await register({ platform: 'fcm', token: FCM_TOKEN })).statusCode).toBe(500);

      expect(logged.some((spy) => spy.mock.calls.length > 0)).toBe(true);
      for (const spy of logged) expect(JSON.stringify(spy.mock.calls)).not.toContain(FCM_TOKEN);
    } finally {
      logged.forEach((spy) => spy.mockRestore());
    }
  });
});

describe('unregisterPushToken', () => {
  const unregister = () => unregisterPushToken.withDeps(deps)(httpEvent('DELETE /v1/devices/self/push', { caller }));

  it('forgets the token and deletes its endpoint', async () => {
    db.on(UpdateCommand).resolves({ Attributes: { push: { platform: 'fcm', endpointArn: endpointArn('GCM', 'e1'), registeredAt: 1 } } });
    sns.on(GetEndpointAttributesCommand).resolves({ Attributes: { CustomUserData: OWNER } });
    sns.on(DeleteEndpointCommand).resolves({});

    expect((await unregister()).statusCode).toBe(204);

    expect(db.commandCalls(UpdateCommand)[0]!.args[0].input).toMatchObject({
      Key: { userId: USER, deviceId: 2 },
      UpdateExpression: 'REMOVE push',
      ConditionExpression: 'attribute_exists(push)',
    });
    expect(sns.commandCalls(DeleteEndpointCommand)[0]!.args[0].input).toEqual({ EndpointArn: endpointArn('GCM', 'e1') });
  });

  it('answers 204 for a device without a token, touching no endpoint', async () => {
    db.on(UpdateCommand).rejects(conditionFailed());
    expect((await unregister()).statusCode).toBe(204);
    expect(sns.calls()).toHaveLength(0);
  });

  it('is done even if SNS cannot delete the endpoint: the device is woken no more', async () => {
    db.on(UpdateCommand).resolves({ Attributes: { push: { platform: 'fcm', endpointArn: endpointArn('GCM', 'e1'), registeredAt: 1 } } });
    sns.on(GetEndpointAttributesCommand).rejects(new Error('throttled'));
    expect((await unregister()).statusCode).toBe(204);
  });
});

describe('removeDevice', () => {
  it('deletes the removed device’s push endpoint', async () => {
    const device = (deviceId: number) => ({ userId: USER, deviceId, name: 'd', primary: deviceId === 1, createdAt: NOW });
    db.on(GetCommand).callsFake((input) => ({ Item: device(input.Key.deviceId) }));
    db.on(DeleteCommand).resolves({
      Attributes: { ...device(2), push: { platform: 'apns', endpointArn: endpointArn('APNS', 'e2'), registeredAt: 1 } },
    });
    sns.on(GetEndpointAttributesCommand).resolves({ Attributes: { CustomUserData: OWNER } });
    sns.on(DeleteEndpointCommand).resolves({});
    db.on(QueryCommand).resolves({ Items: [] }); // its keys go too: it has no one-time prekeys

    const response = await removeDevice.withDeps(deps)(
      httpEvent('DELETE /v1/devices/{deviceId}', { caller: { userId: USER, deviceId: 1 }, pathParameters: { deviceId: '2' } }),
    );

    expect(response.statusCode).toBe(204);
    expect(sns.commandCalls(DeleteEndpointCommand)[0]!.args[0].input).toEqual({ EndpointArn: endpointArn('APNS', 'e2') });
  });
});

describe('fanout wake-up', () => {
  const BOB = '0d6f3b5e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
  const MSG_ID = '00000000-0000-4000-8000-000000000001';
  const CIPHERTEXT = Buffer.from('secret words').toString('base64');
  const registration = (platform: string) => ({
    platform,
    endpointArn: endpointArn(platform === 'fcm' ? 'GCM' : 'APNS', 'bob'),
    registeredAt: NOW - 60_000,
  });
  const record = (data: unknown) => kinesisRecord(data, 'direct:a', '49591');
  const message = (to: { userId: string; deviceId: number }[]) =>
    record({
      kind: 'message',
      msgId: MSG_ID,
      conversationId: 'direct:a',
      from: { userId: USER, deviceId: 1 },
      to: BOB,
      seq: 1,
      serverTs: NOW,
      envelopes: to.map((device) => ({ ...device, type: 'message', ciphertext: CIPHERTEXT })),
    });
  const deliver = (data: ReturnType<typeof record>, withDeps = deps) => fanout.withDeps(withDeps)({ Records: [data] });
  const claims = () =>
    db.commandCalls(UpdateCommand).filter((call) => call.args[0].input.UpdateExpression === 'SET push.lastWokenAt = :now');

  /** The queue items each queue write put. */
  const queued = () => db.commandCalls(BatchWriteCommand).flatMap((call) => Object.values(call.args[0].input.RequestItems!).flat());

  beforeEach(() => {
    db.on(BatchWriteCommand).resolves({});
    db.on(BatchGetCommand).resolves({ Responses: {} }); // no route: offline
    db.on(UpdateCommand).resolves({}); // the conversation index
  });

  it('wakes an offline device with one conditional write and a content-free APNs background push', async () => {
    db.on(UpdateCommand, { UpdateExpression: 'SET push.lastWokenAt = :now' }).resolves({
      Attributes: { userId: BOB, deviceId: 1, push: registration('apns') },
    });
    sns.on(PublishCommand).resolves({ MessageId: 'm1' });

    expect(await deliver(message([{ userId: BOB, deviceId: 1 }]))).toEqual({ batchItemFailures: [] });

    expect(claims().map((call) => call.args[0].input)).toEqual([
      expect.objectContaining({
        TableName: 'parley-devices',
        Key: { userId: BOB, deviceId: 1 },
        ConditionExpression:
          'attribute_exists(push) AND (attribute_not_exists(push.lastWokenAt) OR push.lastWokenAt < :since OR push.lastWokenAt < lastConnectedAt)',
        ExpressionAttributeValues: { ':now': NOW, ':since': NOW - 30_000 },
        ReturnValues: 'ALL_NEW',
      }),
    ]);
    const published = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(published.TargetArn).toBe(endpointArn('APNS', 'bob'));
    expect(published.MessageStructure).toBe('json');
    expect(JSON.parse(JSON.parse(published.Message!).APNS)).toEqual({ aps: { 'content-available': 1 } });
    expect(published.MessageAttributes).toEqual({
      'AWS.SNS.MOBILE.APNS.PUSH_TYPE': { DataType: 'String', StringValue: 'background' },
      'AWS.SNS.MOBILE.APNS.PRIORITY': { DataType: 'String', StringValue: '5' },
    });
    for (const secret of [MSG_ID, CIPHERTEXT, USER, BOB, 'direct:a']) expect(JSON.stringify(published)).not.toContain(secret);
  });

  it('wakes an FCM device with a data-only, high-priority message that carries nothing of the message', async () => {
    db.on(UpdateCommand, { UpdateExpression: 'SET push.lastWokenAt = :now' }).resolves({ Attributes: { push: registration('fcm') } });
    sns.on(PublishCommand).resolves({ MessageId: 'm1' });

    await deliver(message([{ userId: BOB, deviceId: 1 }]));

    const published = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    const fcm = JSON.parse(JSON.parse(published.Message!).GCM).fcmV1Message.message;
    expect(fcm.notification).toBeUndefined();
    expect(fcm.data).toEqual({ wake: '1' });
    expect(fcm.android).toMatchObject({ priority: 'high' });
    for (const secret of [MSG_ID, CIPHERTEXT, USER, BOB]) expect(JSON.stringify(published)).not.toContain(secret);
  });

  it('publishes nothing when the claim fails: no token, or woken less than 30 s ago', async () => {
    db.on(UpdateCommand, { UpdateExpression: 'SET push.lastWokenAt = :now' }).rejects(conditionFailed());
    expect(await deliver(message([{ userId: BOB, deviceId: 1 }]))).toEqual({ batchItemFailures: [] });
    expect(claims()).toHaveLength(1);
    expect(sns.calls()).toHaveLength(0);
  });

  it('forgets a disabled endpoint, only as registered when claimed, and deletes it', async () => {
    db.on(UpdateCommand, { UpdateExpression: 'SET push.lastWokenAt = :now' }).resolves({ Attributes: { push: registration('apns') } });
    db.on(UpdateCommand, { UpdateExpression: 'REMOVE push' }).resolves({ Attributes: { push: registration('apns') } });
    sns.on(PublishCommand).rejects(new EndpointDisabledException({ message: 'Endpoint is disabled', $metadata: {} }));
    sns.on(GetEndpointAttributesCommand).resolves({ Attributes: { Enabled: 'false', CustomUserData: `${BOB}.1` } });
    sns.on(DeleteEndpointCommand).resolves({});

    expect(await deliver(message([{ userId: BOB, deviceId: 1 }]))).toEqual({ batchItemFailures: [] });

    const removal = db.commandCalls(UpdateCommand).find((call) => call.args[0].input.UpdateExpression === 'REMOVE push')!;
    expect(removal.args[0].input).toMatchObject({
      Key: { userId: BOB, deviceId: 1 },
      ConditionExpression: 'push.endpointArn = :endpointArn AND push.registeredAt = :registeredAt',
      ExpressionAttributeValues: { ':endpointArn': endpointArn('APNS', 'bob'), ':registeredAt': NOW - 60_000 },
    });
    expect(sns.commandCalls(DeleteEndpointCommand)[0]!.args[0].input).toEqual({ EndpointArn: endpointArn('APNS', 'bob') });
  });

  it('keeps an endpoint the device registered again since the claim', async () => {
    db.on(UpdateCommand, { UpdateExpression: 'SET push.lastWokenAt = :now' }).resolves({ Attributes: { push: registration('apns') } });
    db.on(UpdateCommand, { UpdateExpression: 'REMOVE push' }).rejects(conditionFailed());
    sns.on(PublishCommand).rejects(new NotFoundException({ message: 'Endpoint does not exist', $metadata: {} }));

    expect(await deliver(message([{ userId: BOB, deviceId: 1 }]))).toEqual({ batchItemFailures: [] });
    expect(sns.commandCalls(DeleteEndpointCommand)).toHaveLength(0);
  });

  it('logs any other publish failure and keeps the record delivered: the message is queued already', async () => {
    const warn = jest.spyOn(logger, 'warn');
    try {
      db.on(UpdateCommand, { UpdateExpression: 'SET push.lastWokenAt = :now' }).resolves({ Attributes: { push: registration('apns') } });
      sns.on(PublishCommand).rejects(new Error('Rate exceeded'));

      expect(await deliver(message([{ userId: BOB, deviceId: 1 }]))).toEqual({ batchItemFailures: [] });

      expect(queued()).toHaveLength(1);
      expect(db.commandCalls(UpdateCommand).map((call) => call.args[0].input.UpdateExpression)).not.toContain('REMOVE push');
      expect(warn).toHaveBeenCalledWith('Wake-up push failed', expect.objectContaining({ userId: BOB, deviceId: 1 }));
    } finally {
      warn.mockRestore();
    }
  });

  it('does not wake a device that got the message live, nor the sender’s own other devices', async () => {
    const route = { connectionId: 'bob-1=', connectedAt: NOW, expiresAt: NOW / 1000 + 600 };
    db.on(BatchGetCommand).resolves({ Responses: { 'parley-routing': [{ userId: BOB, deviceId: 1, ...route }] } });
    connections.on(PostToConnectionCommand).resolves({});

    await deliver(message([{ userId: BOB, deviceId: 1 }, { userId: USER, deviceId: 2 }]));

    expect(claims()).toHaveLength(0);
    expect(sns.calls()).toHaveLength(0);
  });

  it('costs an offline delivery nothing more when push is off', async () => {
    await deliver(message([{ userId: BOB, deviceId: 1 }]), mockDeps(NOW));
    expect(claims()).toHaveLength(0);
  });

  it('does not wake devices for receipts', async () => {
    db.on(DeleteCommand).resolves({});
    const { QueryCommand } = await import('@aws-sdk/lib-dynamodb');
    db.on(QueryCommand).resolves({ Items: [{ userId: BOB, deviceId: 1, registrationId: 7 }] });
    await deliver(
      record({
        kind: 'receipt',
        receiptId: '00000000-0000-4000-8000-000000000009',
        status: 'read',
        conversationId: 'direct:a',
        msgIds: [MSG_ID],
        by: { userId: USER, deviceId: 1 },
        recipients: [BOB],
        serverTs: NOW,
      }),
    );
    expect(queued()).toHaveLength(1);
    expect(claims()).toHaveLength(0);
  });
});

describe('mayBeDueWakeUp', () => {
  const push = (lastWokenAt?: number) => ({ platform: 'fcm' as const, endpointArn: 'arn', registeredAt: 0, ...(lastWokenAt === undefined ? {} : { lastWokenAt }) });

  it('lets a group fan-out claim a wake-up only for a device with push whose last one is older than the interval', () => {
    expect(mayBeDueWakeUp({}, NOW)).toBe(false);
    expect(mayBeDueWakeUp({ push: push() }, NOW)).toBe(true);
    expect(mayBeDueWakeUp({ push: push(NOW - WAKE_UP_INTERVAL_MS + 1) }, NOW)).toBe(false);
    expect(mayBeDueWakeUp({ push: push(NOW - WAKE_UP_INTERVAL_MS - 1) }, NOW)).toBe(true);
  });

  it('lets it claim one at once for a device that connected since its last wake-up', () => {
    expect(mayBeDueWakeUp({ push: push(NOW - 1000), lastConnectedAt: NOW - 500 }, NOW)).toBe(true);
    expect(mayBeDueWakeUp({ push: push(NOW - 500), lastConnectedAt: NOW - 1000 }, NOW)).toBe(false);
  });
});
