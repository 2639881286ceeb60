/** Each Key Distribution Service handler alone, its DynamoDB and @connections calls mocked. */
import { mockClient } from 'aws-sdk-client-mock';
import { BatchWriteCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { handler as uploadKeys } from '../../lambdas/keys/upload-keys';
import { handler as uploadPrekeys } from '../../lambdas/keys/upload-prekeys';
import { handler as countPrekeys } from '../../lambdas/keys/count-prekeys';
import { handler as fetchUserKeys } from '../../lambdas/keys/fetch-user-keys';
import { handler as fetchKeysBatch } from '../../lambdas/keys/fetch-keys-batch';
import { handler as fetchKeys } from '../../lambdas/keys/fetch-keys';
import { httpEvent, messageEvent, mockDeps, NOW, routeCheckPasses, USER } from '../fixtures/aws-events';
import { DeviceKeyMaterial } from '../support/signal-keys';

const db = mockClient(DynamoDBDocumentClient);
const connections = mockClient(ApiGatewayManagementApiClient);
const deps = mockDeps();
const CALLER = { userId: USER, deviceId: 2 };
const PEER = '0f8fad5b-d9cb-469f-a165-70867728950e';
const body = (response: { body?: string }) => JSON.parse(response.body ?? 'null');
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
const table = (id: string) => ({ TableName: `parley-${id}` });
/** Every DynamoDB write the handler made. */
const writes = () => [PutCommand, UpdateCommand, DeleteCommand, BatchWriteCommand].flatMap((command) => db.commandCalls(command as never));

beforeEach(() => {
  db.reset();
  routeCheckPasses(db);
  connections.reset();
  db.on(QueryCommand).resolves({ Items: [], Count: 0 });
});

describe('uploadKeys (PUT /v1/keys/self)', () => {
  const run = uploadKeys.withDeps(deps);
  const put = (upload: unknown) => run(httpEvent('PUT /v1/keys/self', { caller: CALLER, body: upload }));

  it('stores the device keys record first, then the one-time prekeys, then makes the device addressable, and answers the counts', async () => {
    const keys = new DeviceKeyMaterial();
    const upload = keys.firstUpload(CALLER, 30);
    db.on(GetCommand).resolves({});
    db.on(UpdateCommand).resolves({});
    db.on(BatchWriteCommand).resolves({});
    db.on(QueryCommand, { Select: 'COUNT' }).resolves({ Count: 30 });
    const response = await put(upload);
    expect(response.statusCode).toBe(200);
    expect(body(response)).toEqual({ oneTimePrekeys: 30, kyberPrekeys: 30 });
    const record = db.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(record).toMatchObject({
      ...table('deviceKeys'),
      Key: CALLER,
      ConditionExpression: 'attribute_not_exists(identityKey) OR (identityKey = :identityKey AND registrationId = :registrationId)',
      ExpressionAttributeValues: { ':identityKey': keys.identityKey, ':signedPrekey': upload.signedPrekey, ':registrationId': keys.registrationId },
    });
    const items = db.commandCalls(BatchWriteCommand).flatMap((call) => call.args[0].input.RequestItems!['parley-oneTimePrekeys']!);
    expect(items).toHaveLength(60);
    expect(items[0]).toEqual({ PutRequest: { Item: { device: `${USER}#2`, slot: 'ec#00000001', ...upload.oneTimePrekeys[0] } } });
    expect(JSON.stringify(items)).toContain('"slot":"kyber#00010001"');
    // Last, the device becomes addressable under the registration id of its keys.
    expect(db.commandCalls(UpdateCommand).at(-1)!.args[0].input).toMatchObject({
      ...table('devices'),
      Key: CALLER,
      UpdateExpression: 'SET registrationId = :registrationId',
      ExpressionAttributeValues: { ':registrationId': keys.registrationId },
    });
  });

  it('refuses a bad Kyber signature before writing anything', async () => {
    const upload = new DeviceKeyMaterial().firstUpload(CALLER, 3);
    upload.kyberPrekeys[1] = new DeviceKeyMaterial().kyberPrekey(upload.kyberPrekeys[1]!.keyId);
    db.on(GetCommand).resolves({});
    const response = await put(upload);
    expect(response.statusCode).toBe(400);
    expect(body(response).error).toMatchObject({ code: 'INVALID_SIGNATURE', field: 'kyberPrekeys.1', keyId: 10_002 });
    expect(writes()).toHaveLength(0);
  });

  it('checks later uploads against the stored identity key, and refuses another one', async () => {
    const keys = new DeviceKeyMaterial();
    const first = keys.firstUpload(CALLER, 0);
    db.on(GetCommand).resolves({ Item: { ...CALLER, ...first, updatedAt: NOW } });
    const forged = new DeviceKeyMaterial();
    expect(body(await put({ signedPrekey: forged.signedPrekey(2) })).error.code).toBe('INVALID_SIGNATURE');
    const changed = await put({ identityKey: forged.identityKey, signedPrekey: forged.signedPrekey(2) });
    expect(changed.statusCode).toBe(409);
    expect(body(changed).error.code).toBe('IDENTITY_KEY_CHANGED');
    expect(writes()).toHaveLength(0);
  });

  it('refuses a first upload that lacks a part, naming it', async () => {
    db.on(GetCommand).resolves({});
    const { lastResortKyberPrekey: _left, registrationId: _too, ...partial } = new DeviceKeyMaterial().firstUpload(CALLER, 1);
    const response = await put(partial);
    expect(response.statusCode).toBe(400);
    expect(body(response).error.missing).toEqual(['registrationId', 'lastResortKyberPrekey']);
    expect(writes()).toHaveLength(0);
  });

  it('refuses an upload that would leave more than 200 prekeys of a kind', async () => {
    const keys = new DeviceKeyMaterial();
    db.on(GetCommand).resolves({ Item: { ...CALLER, ...keys.firstUpload(CALLER, 0), updatedAt: NOW } });
    db.on(QueryCommand, { ProjectionExpression: 'keyId' }).resolves({ Items: Array.from({ length: 150 }, (_, i) => ({ keyId: 1000 + i })) });
    const response = await put(keys.prekeyBatch(51));
    expect(response.statusCode).toBe(409);
    expect(body(response).error).toMatchObject({ code: 'TOO_MANY_PREKEYS', kind: 'ec', stored: 150, maxStoredPrekeys: 200 });
    expect(writes()).toHaveLength(0);
  });

  it('answers IDENTITY_KEY_CHANGED when a racing first upload set another identity key', async () => {
    const keys = new DeviceKeyMaterial();
    const other = new DeviceKeyMaterial();
    db.on(GetCommand).resolvesOnce({}).resolves({ Item: { ...CALLER, ...other.firstUpload(CALLER, 0), updatedAt: NOW } });
    db.on(UpdateCommand).rejects(conditionFailed());
    const response = await put(keys.firstUpload(CALLER, 2));
    expect(body(response).error.code).toBe('IDENTITY_KEY_CHANGED');
    expect(db.commandCalls(BatchWriteCommand)).toHaveLength(0);
  });
});

describe('uploadPrekeys (UPLOAD_PREKEYS)', () => {
  it('answers PREKEYS_STORED with the counts and the requestId', async () => {
    const keys = new DeviceKeyMaterial();
    db.on(GetCommand).resolves({ Item: { ...CALLER, ...keys.firstUpload(CALLER, 0), updatedAt: NOW } });
    db.on(UpdateCommand).resolves({});
    db.on(BatchWriteCommand).resolves({});
    db.on(QueryCommand, { Select: 'COUNT' }).resolves({ Count: 4 });
    const frame = { action: 'UPLOAD_PREKEYS', requestId: 'up-1', ...keys.prekeyBatch(4) };
    const response = await uploadPrekeys.withDeps(deps)(messageEvent('UPLOAD_PREKEYS', JSON.stringify(frame), 'conn-1', CALLER));
    expect(body(response)).toEqual({ type: 'PREKEYS_STORED', oneTimePrekeys: 4, kyberPrekeys: 4, requestId: 'up-1' });
    // One-time prekeys came: a later take that leaves few may tell the device again.
    expect(db.commandCalls(UpdateCommand)[0]!.args[0].input.UpdateExpression).toContain('REMOVE lowNoticeAt');
  });
});

describe('countPrekeys (GET /v1/keys/self/count)', () => {
  it('adds up the pages of a count query per kind', async () => {
    db.on(QueryCommand, { ExpressionAttributeValues: { ':d': `${USER}#2`, ':kind': 'ec#' } })
      .resolvesOnce({ Count: 60, LastEvaluatedKey: { device: `${USER}#2`, slot: 'ec#00000060' } })
      .resolves({ Count: 40 });
    db.on(QueryCommand, { ExpressionAttributeValues: { ':d': `${USER}#2`, ':kind': 'kyber#' } }).resolves({ Count: 7 });
    const response = await countPrekeys.withDeps(deps)(httpEvent('GET /v1/keys/self/count', { caller: CALLER }));
    expect(body(response)).toEqual({ oneTimePrekeys: 100, kyberPrekeys: 7 });
    expect(db.commandCalls(QueryCommand).every((call) => call.args[0].input.Select === 'COUNT' && call.args[0].input.ConsistentRead)).toBe(true);
  });
});

describe('fetching bundles', () => {
  const peerKeys = new DeviceKeyMaterial();
  const record = { userId: PEER, deviceId: 1, ...peerKeys.firstUpload({ userId: PEER, deviceId: 1 }, 0), updatedAt: NOW };
  const ecKey = { device: `${PEER}#1`, slot: 'ec#00000005', keyId: 5, publicKey: peerKeys.oneTimePrekey(5).publicKey };
  const get = (query?: Record<string, string>) =>
    fetchUserKeys.withDeps(deps)({
      ...httpEvent('GET /v1/keys/{userId}', { caller: CALLER, pathParameters: { userId: PEER } }),
      ...(query ? { queryStringParameters: query } : {}),
    });

  beforeEach(() => {
    db.on(UpdateCommand, table('rateLimits')).resolves({});
    db.on(QueryCommand, table('devices')).resolves({ Items: [{ userId: PEER, deviceId: 1, registrationId: record.registrationId }, { userId: PEER, deviceId: 2 }] });
    db.on(QueryCommand, table('deviceKeys')).resolves({ Items: [{ ...record, lowNoticeAt: NOW - 1 }] });
  });

  it('takes a one-time prekey by a conditional delete and falls back to the last-resort Kyber key', async () => {
    db.on(QueryCommand, { ...table('oneTimePrekeys'), Limit: 5 }).callsFake((input) =>
      input.ExpressionAttributeValues[':kind'] === 'ec#' ? { Items: [{ device: ecKey.device, slot: ecKey.slot }] } : { Items: [] },
    );
    db.on(DeleteCommand, table('oneTimePrekeys')).resolves({ Attributes: ecKey });
    const response = await get();
    expect(response.statusCode).toBe(200);
    expect(body(response)).toEqual({
      userId: PEER,
      devices: [
        {
          deviceId: 1,
          registrationId: record.registrationId,
          identityKey: record.identityKey,
          signedPrekey: record.signedPrekey,
          prekey: { keyId: 5, publicKey: ecKey.publicKey },
          kyberPrekey: record.lastResortKyberPrekey,
          lastResort: true,
        },
      ],
    });
    expect(db.commandCalls(DeleteCommand)[0]!.args[0].input).toEqual({
      ...table('oneTimePrekeys'),
      Key: { device: ecKey.device, slot: ecKey.slot },
      ConditionExpression: 'attribute_exists(slot)',
      ReturnValues: 'ALL_OLD',
    });
  });

  it('reads again when a racing fetch took the key it chose', async () => {
    const other = { ...ecKey, slot: 'ec#00000006', keyId: 6 };
    db.on(QueryCommand, { ...table('oneTimePrekeys'), Limit: 5 }).callsFake((input) =>
      input.ExpressionAttributeValues[':kind'] === 'ec#' ? { Items: [ecKey, other].map(({ device, slot }) => ({ device, slot })) } : { Items: [] },
    );
    db.on(DeleteCommand, table('oneTimePrekeys')).rejectsOnce(conditionFailed()).callsFake((input) => ({ Attributes: input.Key.slot === other.slot ? other : ecKey }));
    const response = await get();
    expect(body(response).devices[0].prekey).toBeDefined();
    expect(db.commandCalls(DeleteCommand)).toHaveLength(2);
    expect(db.commandCalls(QueryCommand, { ...table('oneTimePrekeys'), Limit: 5, ExpressionAttributeValues: { ':d': `${PEER}#1`, ':kind': 'ec#' } })).toHaveLength(2);
  });

  it('answers only the devices asked for, and 404 when none has keys', async () => {
    expect((await get({ deviceIds: '2' })).statusCode).toBe(404);
    expect((await get({ deviceIds: '1,2' })).statusCode).toBe(200);
    expect((await get({ deviceIds: 'all' })).statusCode).toBe(400);
  });

  it('refuses with RATE_LIMITED and takes nothing when the requester spent its tokens for this user', async () => {
    db.on(UpdateCommand, { ...table('rateLimits'), Key: { bucket: `user:${USER}.2:${PEER}` } }).rejects(conditionFailed());
    db.on(GetCommand, table('rateLimits')).resolves({ Item: { tat: NOW + 5 * 12 * 60_000 - 1 } });
    const response = await get();
    expect(response.statusCode).toBe(429);
    expect(body(response).error).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 720 });
    expect(db.commandCalls(DeleteCommand)).toHaveLength(0);
    // The overall budget it had spent is given back.
    const refund = db.commandCalls(UpdateCommand, { Key: { bucket: `device:${USER}.2` }, UpdateExpression: 'SET tat = tat - :cost' });
    expect(refund).toHaveLength(1);
  });

  it('queues PREKEYS_LOW, then pushes it, when a take leaves fewer than 10', async () => {
    db.on(QueryCommand, table('deviceKeys')).resolves({ Items: [record] });
    db.on(QueryCommand, { ...table('oneTimePrekeys'), Select: 'COUNT' }).callsFake((input) => ({
      Count: input.ExpressionAttributeValues[':kind'] === 'ec#' ? 3 : Math.min(input.Limit ?? 40, 40),
    }));
    db.on(PutCommand, table('deviceQueues')).resolves({});
    db.on(UpdateCommand, table('deviceKeys')).resolves({});
    db.on(GetCommand, table('routing')).resolves({ Item: { userId: PEER, deviceId: 1, connectionId: 'peer-conn', expiresAt: NOW / 1000 + 60 } });
    connections.on(PostToConnectionCommand).resolves({});
    await get();
    const queued = db.commandCalls(PutCommand, table('deviceQueues'))[0]!.args[0].input.Item!;
    expect(queued).toMatchObject({ device: `${PEER}#1`, frame: { type: 'PREKEYS_LOW', oneTimePrekeys: 3, kyberPrekeys: 40 } });
    expect(queued.position).toBe(queued.frame.cursor);
    expect(queued.frame.cursor.endsWith(queued.frame.noticeId)).toBe(true);
    expect(db.commandCalls(UpdateCommand, table('deviceKeys'))[0]!.args[0].input.ConditionExpression).toContain('attribute_not_exists(lowNoticeAt)');
    const pushed = JSON.parse(Buffer.from(connections.commandCalls(PostToConnectionCommand)[0]!.args[0].input.Data as Uint8Array).toString());
    expect(pushed).toEqual(queued.frame);
  });

  it('withdraws its queued notice when a racing fetch noticed first', async () => {
    db.on(QueryCommand, table('deviceKeys')).resolves({ Items: [record] });
    db.on(PutCommand, table('deviceQueues')).resolves({});
    db.on(UpdateCommand, table('deviceKeys')).rejects(conditionFailed());
    await get();
    const queued = db.commandCalls(PutCommand, table('deviceQueues'))[0]!.args[0].input.Item!;
    expect(db.commandCalls(DeleteCommand, table('deviceQueues'))[0]!.args[0].input.Key).toEqual({ device: queued.device, position: queued.position });
    expect(connections.calls()).toHaveLength(0);
  });

  it('answers a batch with the users without keys in `missing`, and FETCH_KEYS as KEYS', async () => {
    const other = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
    db.on(QueryCommand, { ...table('deviceKeys'), ExpressionAttributeValues: { ':u': other } }).resolves({ Items: [] });
    const users = [{ userId: PEER }, { userId: other }];
    const batch = await fetchKeysBatch.withDeps(deps)(httpEvent('POST /v1/keys/batch', { caller: CALLER, body: { users } }));
    expect(body(batch)).toMatchObject({ bundles: [{ userId: PEER }], missing: [other] });
    const frame = await fetchKeys.withDeps(deps)(messageEvent('FETCH_KEYS', JSON.stringify({ action: 'FETCH_KEYS', requestId: 'f-1', users }), 'conn-1', CALLER));
    expect(body(frame)).toMatchObject({ type: 'KEYS', requestId: 'f-1', bundles: [{ userId: PEER }], missing: [other] });
    // Each user costs the requester one token overall and one for that user.
    expect(db.commandCalls(UpdateCommand, { Key: { bucket: `device:${USER}.2` } })[0]!.args[0].input.ExpressionAttributeValues![':bucketNext']).toBe(NOW + 2 * 3_600);
  });

  it('refuses a batch naming a user twice, before spending anything', async () => {
    const response = await fetchKeysBatch.withDeps(deps)(httpEvent('POST /v1/keys/batch', { caller: CALLER, body: { users: [{ userId: PEER }, { userId: PEER }] } }));
    expect(response.statusCode).toBe(400);
    expect(db.calls()).toHaveLength(0);
  });
});
