import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBDocumentClient, DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { handler as authorizer } from '../../lambdas/connect/authorizer';
import { handler as connect } from '../../lambdas/connect/connect';
import { handler as disconnect } from '../../lambdas/connect/disconnect';
import { handler as heartbeat } from '../../lambdas/connect/heartbeat';
import { handler as unknownAction } from '../../lambdas/connect/unknown-action';
import { hashSecret } from '../../lambdas/accounts/device-secrets';
import { encodeDeviceCredentials } from '../../lambdas/protocol/credentials';
import { connectEvent, disconnectEvent, messageEvent, mockDeps, NOW, USER, webSocketAuthorizerEvent } from '../fixtures/aws-events';

const db = mockClient(DynamoDBDocumentClient);
const connections = mockClient(ApiGatewayManagementApiClient);
const deps = mockDeps();
const caller = { userId: USER, deviceId: 2 };
const SECRET = 'a'.repeat(43);
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

beforeEach(() => {
  db.reset();
  connections.reset();
});

describe('webSocketAuthorizer', () => {
  const run = authorizer.withDeps(deps);
  const device = { userId: USER, deviceId: 2, name: 'Tablet', primary: false, createdAt: NOW, ...hashSecret(SECRET) };

  it('allows a device with the right secret and passes {userId, deviceId} on', async () => {
    db.on(GetCommand).resolves({ Item: device });
    const answer = await run(webSocketAuthorizerEvent({ Authorization: encodeDeviceCredentials({ ...caller, secret: SECRET }) }));
    expect(answer.policyDocument.Statement[0]!.Effect).toBe('Allow');
    expect(answer.context).toEqual({ userId: USER, deviceId: 2 });
  });

  it('denies a wrong secret, which API Gateway turns into 403', async () => {
    db.on(GetCommand).resolves({ Item: device });
    const answer = await run(webSocketAuthorizerEvent({ Authorization: encodeDeviceCredentials({ ...caller, secret: 'b'.repeat(43) }) }));
    expect(answer.policyDocument.Statement[0]!.Effect).toBe('Deny');
    expect(answer.context).toBeUndefined();
  });

  it('denies a device that does not exist', async () => {
    db.on(GetCommand).resolves({});
    const answer = await run(webSocketAuthorizerEvent({ Authorization: encodeDeviceCredentials({ ...caller, secret: SECRET }) }));
    expect(answer.policyDocument.Statement[0]!.Effect).toBe('Deny');
  });

  it('denies malformed credentials without reading the table', async () => {
    const answer = await run(webSocketAuthorizerEvent({ Authorization: 'Basic bm90LWNyZWRlbnRpYWxz' }));
    expect(answer.policyDocument.Statement[0]!.Effect).toBe('Deny');
    expect(db.calls()).toHaveLength(0);
  });

  it('throws Unauthorized (API Gateway: 401) when there are no credentials', async () => {
    await expect(run(webSocketAuthorizerEvent({}))).rejects.toThrow('Unauthorized');
  });
});

describe('connect', () => {
  const run = connect.withDeps(deps);
  // Most devices were not woken by push since they last connected: nothing to clear. After its put the
  // route still points at the new connection unless a test says otherwise.
  beforeEach(() => {
    db.on(UpdateCommand).rejects(conditionFailed());
    db.on(GetCommand).resolves({ Item: { ...caller, connectionId: 'conn-new=', connectedAt: NOW, expiresAt: NOW / 1000 + 600 } });
  });

  it('records on the device that it may be live on this connection until its longest life, and when it connected (a wake-up before is answered)', async () => {
    db.on(PutCommand).resolves({});
    db.on(UpdateCommand).resolves({});
    expect(await run(connectEvent('conn-new=', caller))).toEqual({ statusCode: 200 });
    const [update] = db.commandCalls(UpdateCommand).filter((call) => call.args[0].input.TableName === 'parley-devices');
    expect(update!.args[0].input).toMatchObject({
      Key: { userId: USER, deviceId: 2 },
      UpdateExpression: 'SET lastConnectedAt = :connectedAt, #connection = :connection',
      ConditionExpression: 'attribute_exists(userId)',
      // The functions' clock, not the gateway's (the fixture's connection opened a second before NOW).
      ExpressionAttributeValues: { ':connectedAt': NOW, ':connection': { connectionId: 'conn-new=', until: NOW + 2 * 60 * 60 * 1000 } },
    });
  });

  it('refuses the connection when the device record cannot be written: group messages would not be pushed to it', async () => {
    db.on(PutCommand).resolves({});
    db.on(UpdateCommand).rejects(new Error('throttled'));
    await expect(run(connectEvent('conn-new=', caller))).rejects.toThrow('throttled');
  });

  it('records the route with a TTL that outlives the idle timeout but not the connection', async () => {
    db.on(PutCommand).resolves({});
    expect(await run(connectEvent('conn-new=', caller))).toEqual({ statusCode: 200 });
    const item = db.commandCalls(PutCommand)[0]!.args[0].input.Item!;
    expect(item).toMatchObject({ userId: USER, deviceId: 2, connectionId: 'conn-new=' });
    expect(item.expiresAt).toBe(Math.floor((NOW + 15 * 60 * 1000) / 1000));
    expect(connections.calls()).toHaveLength(0);
  });

  it('closes the older connection of the same device, telling it why', async () => {
    const old = { ...caller, connectionId: 'conn-old=', connectedAt: NOW - 5000, expiresAt: NOW / 1000 + 600 };
    db.on(PutCommand).resolves({ Attributes: old });
    connections.on(PostToConnectionCommand).resolves({});
    connections.on(DeleteConnectionCommand).resolves({});
    await run(connectEvent('conn-new=', caller));
    const posted = connections.commandCalls(PostToConnectionCommand)[0]!.args[0].input;
    expect(posted.ConnectionId).toBe('conn-old=');
    expect(JSON.parse(Buffer.from(posted.Data as Uint8Array).toString())).toEqual({
      type: 'SESSION_CLOSED',
      reason: 'CONNECTED_ELSEWHERE',
      code: 4409,
    });
    expect(connections.commandCalls(DeleteConnectionCommand)[0]!.args[0].input.ConnectionId).toBe('conn-old=');
  });

  it('ignores an older route whose connection is already gone', async () => {
    db.on(PutCommand).resolves({ Attributes: { ...caller, connectionId: 'conn-old=', connectedAt: 0, expiresAt: NOW / 1000 + 600 } });
    connections.on(PostToConnectionCommand).rejects(new GoneException({ message: 'Gone', $metadata: {} }));
    expect(await run(connectEvent('conn-new=', caller))).toEqual({ statusCode: 200 });
    expect(connections.commandCalls(DeleteConnectionCommand)).toHaveLength(0);
  });

  it('refuses the handshake (409) when a newer connection of the device took the route meanwhile', async () => {
    db.on(PutCommand).resolves({});
    db.on(GetCommand).resolves({ Item: { ...caller, connectionId: 'conn-newer=', connectedAt: NOW, expiresAt: NOW / 1000 + 600 } });
    expect(await run(connectEvent('conn-new=', caller))).toEqual({ statusCode: 409 });
    expect(db.commandCalls(GetCommand)[0]!.args[0].input).toMatchObject({ Key: { userId: USER, deviceId: 2 }, ConsistentRead: true });
  });
});

describe('disconnect', () => {
  it('deletes the route only if it still points at the closed connection', async () => {
    db.on(DeleteCommand).rejects(conditionFailed());
    expect(await disconnect.withDeps(deps)(disconnectEvent('conn-old=', caller))).toEqual({ statusCode: 200 });
    const input = db.commandCalls(DeleteCommand)[0]!.args[0].input;
    expect(input.ConditionExpression).toBe('connectionId = :c');
    expect(input.ExpressionAttributeValues).toEqual({ ':c': 'conn-old=' });
  });

  it('forgets the device record’s connection only if it is still the closed one', async () => {
    db.on(DeleteCommand).resolves({});
    db.on(UpdateCommand).rejects(conditionFailed());
    expect(await disconnect.withDeps(deps)(disconnectEvent('conn-old=', caller))).toEqual({ statusCode: 200 });
    const [update] = db.commandCalls(UpdateCommand).filter((call) => call.args[0].input.TableName === 'parley-devices');
    expect(update!.args[0].input).toMatchObject({
      Key: { userId: USER, deviceId: 2 },
      UpdateExpression: 'REMOVE #connection',
      ConditionExpression: '#connection.connectionId = :connectionId',
      ExpressionAttributeValues: { ':connectionId': 'conn-old=' },
    });
  });
});

describe('heartbeat', () => {
  const run = heartbeat.withDeps(deps);
  const frame = (body: unknown) => messageEvent('HEARTBEAT', JSON.stringify(body), 'conn-1=', { userId: USER, deviceId: '2' });

  it('refreshes the route and answers with its new expiry and the requestId', async () => {
    db.on(UpdateCommand).resolves({});
    const answer = JSON.parse((await run(frame({ action: 'HEARTBEAT', requestId: 'r1' }))).body!);
    expect(answer).toEqual({ type: 'HEARTBEAT_ACK', requestId: 'r1', routeExpiresAt: Math.floor((NOW + 15 * 60_000) / 1000) * 1000 });
    expect(db.commandCalls(UpdateCommand)[0]!.args[0].input.Key).toEqual({ userId: USER, deviceId: 2 });
  });

  it('tells a connection the device has replaced why, and closes it, when it beats', async () => {
    db.on(UpdateCommand).rejects(conditionFailed());
    connections.on(PostToConnectionCommand).resolves({});
    connections.on(DeleteConnectionCommand).resolves({});
    expect(await run(frame({ action: 'HEARTBEAT' }))).toEqual({ statusCode: 200 });
    const posted = connections.commandCalls(PostToConnectionCommand)[0]!.args[0].input;
    expect(posted.ConnectionId).toBe('conn-1=');
    expect(JSON.parse(Buffer.from(posted.Data as Uint8Array).toString())).toMatchObject({ type: 'SESSION_CLOSED', reason: 'CONNECTED_ELSEWHERE' });
    expect(connections.commandCalls(DeleteConnectionCommand)[0]!.args[0].input.ConnectionId).toBe('conn-1=');
  });

  it('names the unexpected field of a bad frame', async () => {
    const answer = JSON.parse((await run(frame({ action: 'HEARTBEAT', extra: 1, requestId: 'r2' }))).body!);
    expect(answer).toMatchObject({ type: 'ERROR', code: 'BAD_REQUEST', requestId: 'r2' });
    expect(answer.message).toContain('extra');
    expect(db.calls()).toHaveLength(0);
  });

  it('answers an internal error frame, not a crash, when the table fails', async () => {
    db.on(UpdateCommand).rejects(new Error('throttled'));
    const answer = JSON.parse((await run(frame({ action: 'HEARTBEAT' }))).body!);
    expect(answer).toMatchObject({ type: 'ERROR', code: 'INTERNAL' });
    expect(answer.message).not.toContain('throttled');
  });
});

describe('unknownAction', () => {
  const run = unknownAction.withDeps(deps);
  const send = async (body: string) => JSON.parse((await run(messageEvent('$default', body, 'conn-1=', caller))).body!);

  it('names the action it does not know and the ones it does', async () => {
    expect(await send('{"action":"DANCE","requestId":"r9"}')).toMatchObject({
      type: 'ERROR',
      code: 'UNKNOWN_ACTION',
      action: 'DANCE',
      requestId: 'r9',
      knownActions: expect.arrayContaining(['HEARTBEAT']),
    });
  });

  it('says a frame that is not JSON is not JSON', async () => {
    expect(await send('hello')).toMatchObject({ type: 'ERROR', code: 'BAD_REQUEST', message: 'The frame is not valid JSON' });
  });

  it('asks for an action when there is none', async () => {
    expect(await send('{"hello":1}')).toMatchObject({ type: 'ERROR', code: 'BAD_REQUEST' });
  });
});
