import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { ApiGatewayManagementApiClient, DeleteConnectionCommand, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { handler as send } from '../../lambdas/send/send';
import { directConversationId } from '../../lambdas/send/conversations';
import { messageEvent, mockDeps, NOW, routeCheckPasses, USER } from '../fixtures/aws-events';

const db = mockClient(DynamoDBDocumentClient);
const kinesis = mockClient(KinesisClient);
const connections = mockClient(ApiGatewayManagementApiClient);
const deps = mockDeps();
const BOB = '0d6f3b5e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
const MSG = '9f1c2b3a-4d5e-4f60-8a7b-6c5d4e3f2a1b';
const frame = {
  action: 'SEND',
  msgId: MSG,
  conversationId: directConversationId(USER, BOB),
  to: BOB,
  seq: 3,
  envelopes: [{ userId: BOB, deviceId: 1, registrationId: 7, type: 'prekey', ciphertext: 'AAAA' }],
};
const invoke = (body: object = frame, now = NOW) =>
  send.withDeps({ ...deps, now: () => now })(messageEvent('SEND', JSON.stringify(body), 'conn-1=', { userId: USER, deviceId: 1 }));
const run = async (body: object = frame, now = NOW) => JSON.parse((await invoke(body, now)).body!);
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'failed', $metadata: {} });
/** The updates made to a table, by their update expressions. */
const updatesOf = (TableName: string) => db.commandCalls(UpdateCommand, { TableName }).map((call) => call.args[0].input.UpdateExpression);

/**
 * The conversation clock item as DynamoDB keeps it: the clock (the conditional SET and the atomic ADD) and
 * the sending device's token bucket, each spent from full or from partly spent, alone or with the tick.
 */
function clockItem() {
  let lastServerTs: number | undefined;
  let tat: number | undefined;
  return (input: UpdateCommandInput) => {
    const values = input.ExpressionAttributeValues!;
    const update = input.UpdateExpression!;
    if (update === 'ADD lastServerTs :one' && input.ReturnValues === 'UPDATED_NEW') {
      lastServerTs = (lastServerTs ?? 0) + values[':one'];
      return { Attributes: { lastServerTs } };
    }
    const ticks = update.startsWith('SET lastServerTs = :now');
    const fromFull = update.includes('#bucket = :bucketNext');
    const fromSpent = update.includes('#bucket = #bucket + :bucketCost');
    if (update.replace(/^SET lastServerTs = :now(, )?/, '').replace(/^SET /, '') !== (fromFull ? '#bucket = :bucketNext' : fromSpent ? '#bucket = #bucket + :bucketCost' : '')) {
      throw new Error(`unexpected update ${update}`);
    }
    const clockHolds = !ticks || lastServerTs === undefined || lastServerTs < values[':now'];
    const bucketHolds = fromFull
      ? tat === undefined || tat <= values[':bucketNow']
      : !fromSpent || (tat !== undefined && (tat <= values[':bucketLatest'] || tat > values[':bucketAhead']));
    if (!clockHolds || !bucketHolds) throw new ConditionalCheckFailedException({ message: 'failed', $metadata: {} });
    if (ticks) lastServerTs = values[':now'];
    if (fromFull) tat = values[':bucketNext'];
    if (fromSpent) tat! += values[':bucketCost'];
    return {};
  };
}

/** The clock item as above; every stamp and put succeeds. */
function acceptsOnAClockItem() {
  db.on(UpdateCommand, { TableName: 'parley-conversationClocks' }).callsFake(clockItem());
  db.on(PutCommand).resolves({});
  kinesis.on(PutRecordCommand).resolves({ SequenceNumber: '1', ShardId: 'shardId-000000000000' });
}

beforeEach(() => {
  db.reset();
  routeCheckPasses(db);
  db.on(GetCommand, { TableName: 'parley-blocks' }).resolves({}); // Bob has not blocked the sender
  kinesis.reset();
  connections.reset();
  db.on(UpdateCommand).resolves({}); // the conversation clock: this Lambda's now is past it
  db.on(QueryCommand, { KeyConditionExpression: 'userId = :u', ExpressionAttributeValues: { ':u': BOB } }).resolves({ Items: [{ userId: BOB, deviceId: 1, registrationId: 7 }] });
  db.on(QueryCommand, { KeyConditionExpression: 'userId = :u', ExpressionAttributeValues: { ':u': USER } }).resolves({ Items: [{ userId: USER, deviceId: 1, registrationId: 8 }] });
});

describe('send', () => {
  it('spends the device’s token, stamps the message spending the pair’s token in the same write, puts it on the stream keyed by conversation, marks it streamed, then answers ACK', async () => {
    const order: string[] = [];
    const step = { 'parley-rateLimits': 'limit', 'parley-conversationClocks': 'clock', 'parley-acceptedMessages': 'mark' } as Record<string, string>;
    db.on(UpdateCommand).callsFake((input: UpdateCommandInput) => (order.push(step[input.TableName!]!), {}));
    db.on(PutCommand).callsFake(() => (order.push('stamp'), {}));
    kinesis.on(PutRecordCommand).callsFake(() => (order.push('put'), { SequenceNumber: '1', ShardId: 'shardId-000000000000' }));
    expect(await run()).toEqual({ type: 'ACK', msgId: MSG, serverTs: NOW });
    expect(order).toEqual(['limit', 'clock', 'stamp', 'put', 'mark']);
    expect(db.commandCalls(GetCommand, { TableName: 'parley-routing' })[0]!.args[0].input).toMatchObject({ Key: { userId: USER, deviceId: 1 }, ConsistentRead: true });
    expect(db.commandCalls(UpdateCommand)[0]!.args[0].input.Key).toEqual({ bucket: `send:${USER}.1` });
    expect(db.commandCalls(UpdateCommand)[1]!.args[0].input).toMatchObject({
      TableName: 'parley-conversationClocks',
      Key: { conversationId: frame.conversationId },
      UpdateExpression: 'SET lastServerTs = :now, #bucket = :bucketNext',
      ExpressionAttributeNames: { '#bucket': `sendTo:${USER}.1` },
    });
    expect(kinesis.commandCalls(PutRecordCommand)[0]!.args[0].input.PartitionKey).toBe(frame.conversationId);
  });

  it('answers a retried SEND with the first stamp, and puts nothing once the first attempt put its record', async () => {
    db.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    db.on(GetCommand).resolves({ Item: { msgId: MSG, sender: `${USER}.1`, conversationId: frame.conversationId, serverTs: NOW - 5000, onStream: true } });
    expect(await run()).toEqual({ type: 'ACK', msgId: MSG, serverTs: NOW - 5000 });
    expect(kinesis.commandCalls(PutRecordCommand)).toHaveLength(0);
  });

  it('puts a retried SEND with its first stamp when the first attempt may have died before its put, then marks it', async () => {
    db.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    db.on(GetCommand).resolves({ Item: { msgId: MSG, sender: `${USER}.1`, conversationId: frame.conversationId, serverTs: NOW - 5000 } });
    kinesis.on(PutRecordCommand).resolves({ SequenceNumber: '2', ShardId: 'shardId-000000000000' });
    expect(await run()).toEqual({ type: 'ACK', msgId: MSG, serverTs: NOW - 5000 });
    expect(JSON.parse(Buffer.from(kinesis.commandCalls(PutRecordCommand)[0]!.args[0].input.Data!).toString()).serverTs).toBe(NOW - 5000);
    expect(db.commandCalls(UpdateCommand).map((call) => call.args[0].input)).toContainEqual(
      expect.objectContaining({ TableName: 'parley-acceptedMessages', Key: { msgId: MSG }, UpdateExpression: 'SET onStream = :true' }),
    );
  });

  it('refuses a msgId another device sent, putting nothing', async () => {
    db.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    db.on(GetCommand).resolves({ Item: { msgId: MSG, sender: `${BOB}.1`, conversationId: frame.conversationId, serverTs: NOW - 5000, onStream: true } });
    expect(await run()).toMatchObject({ type: 'ERROR', code: 'MSG_ID_TAKEN' });
    expect(kinesis.commandCalls(PutRecordCommand)).toHaveLength(0);
  });

  it('stamps a conversation strictly later than before when the Lambda clock goes backwards', async () => {
    acceptsOnAClockItem();
    const first = await run({ ...frame, msgId: '00000000-0000-4000-8000-000000000001' }, NOW);
    const second = await run({ ...frame, msgId: '00000000-0000-4000-8000-000000000002' }, NOW - 5000);
    const third = await run({ ...frame, msgId: '00000000-0000-4000-8000-000000000003' }, NOW - 5000);
    expect([first.serverTs, second.serverTs, third.serverTs]).toEqual([NOW, NOW + 1, NOW + 2]);
    // The record on the stream, and so every queue position, carries the clock's stamp, not the Lambda's.
    const streamed = kinesis.commandCalls(PutRecordCommand).map((call) => JSON.parse(Buffer.from(call.args[0].input.Data!).toString()).serverTs);
    expect(streamed).toEqual([NOW, NOW + 1, NOW + 2]);
  });

  it('stamps now and spends the pair’s token in one write when the Lambda clock is past the conversation clock and the bucket is full', async () => {
    acceptsOnAClockItem();
    await run({ ...frame, msgId: '00000000-0000-4000-8000-000000000001' }, NOW);
    expect((await run({ ...frame, msgId: '00000000-0000-4000-8000-000000000002' }, NOW + 1_007)).serverTs).toBe(NOW + 1_007);
    expect(db.commandCalls(UpdateCommand, { TableName: 'parley-conversationClocks' })).toHaveLength(2);
  });

  it('takes a token from a partly spent pair bucket in the stamping write too, when messages follow each other closely', async () => {
    acceptsOnAClockItem();
    await run({ ...frame, msgId: '00000000-0000-4000-8000-000000000001' }, NOW);
    expect((await run({ ...frame, msgId: '00000000-0000-4000-8000-000000000002' }, NOW + 7)).serverTs).toBe(NOW + 7);
    const clockWrites = db.commandCalls(UpdateCommand, { TableName: 'parley-conversationClocks' }).map((call) => call.args[0].input.UpdateExpression);
    expect(clockWrites).toEqual(['SET lastServerTs = :now, #bucket = :bucketNext', 'SET lastServerTs = :now, #bucket = :bucketNext', 'SET lastServerTs = :now, #bucket = #bucket + :bucketCost']);
  });

  it('refuses a SEND whose pair bucket is empty with RATE_LIMITED, gives the device’s token back and stamps nothing', async () => {
    db.on(UpdateCommand, { TableName: 'parley-conversationClocks' }).rejects(new ConditionalCheckFailedException({ message: 'empty', $metadata: {} }));
    db.on(GetCommand, { TableName: 'parley-conversationClocks' }).resolves({ Item: { [`sendTo:${USER}.1`]: NOW + 60_000 } });
    db.on(GetCommand, { TableName: 'parley-acceptedMessages' }).resolves({});
    expect(await run()).toMatchObject({ type: 'ERROR', code: 'RATE_LIMITED', retryAfterSeconds: 1 });
    expect(db.commandCalls(UpdateCommand, { TableName: 'parley-rateLimits' }).map((call) => call.args[0].input.UpdateExpression)).toEqual([
      'SET tat = :bucketNext, expiresAt = :exp',
      'SET tat = tat - :cost',
    ]);
    expect(db.commandCalls(PutCommand)).toHaveLength(0);
    expect(kinesis.commandCalls(PutRecordCommand)).toHaveLength(0);
  });

  it('answers a sender the recipient blocked with a normal ACK, and streams the message withheld from the recipient’s devices', async () => {
    const own = { userId: USER, deviceId: 2, registrationId: 8, type: 'message', ciphertext: 'BBBB' };
    db.on(QueryCommand, { KeyConditionExpression: 'userId = :u', ExpressionAttributeValues: { ':u': USER } }).resolves({
      Items: [{ userId: USER, deviceId: 1, registrationId: 8 }, own],
    });
    db.on(GetCommand, { TableName: 'parley-blocks' }).resolves({ Item: { userId: BOB } });
    db.on(PutCommand).resolves({});
    kinesis.on(PutRecordCommand).resolves({ SequenceNumber: '1', ShardId: 'shardId-000000000000' });
    expect(await run({ ...frame, envelopes: [...frame.envelopes, own] })).toEqual({ type: 'ACK', msgId: MSG, serverTs: NOW });
    expect(db.commandCalls(GetCommand, { TableName: 'parley-blocks' })[0]!.args[0].input).toMatchObject({ Key: { userId: BOB, blockedUserId: USER }, ConsistentRead: true });
    const record = JSON.parse(Buffer.from(kinesis.commandCalls(PutRecordCommand)[0]!.args[0].input.Data!).toString());
    expect(record).toMatchObject({ withheld: true, to: BOB });
    expect(record.envelopes.map((e: { userId: string; deviceId: number }) => `${e.userId}.${e.deviceId}`)).toEqual([`${USER}.2`]);
  });

  it('sends no ACK when the stream refuses the record: the client retries', async () => {
    db.on(PutCommand).resolves({});
    kinesis.on(PutRecordCommand).rejects(new Error('ProvisionedThroughputExceededException'));
    expect(await run()).toMatchObject({ type: 'ERROR', code: 'INTERNAL', action: 'SEND' });
  });

  it('checks the session, reads the device lists and the block, and spends the device’s token all at once, stamping and storing nothing before the session answers', async () => {
    let routeRead!: () => void;
    db.on(GetCommand, { TableName: 'parley-routing' }).callsFake(() => new Promise((resolve) => (routeRead = () => resolve({}))));
    const answer = run();
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Everything but the session's answer is in: the stamp and the stores wait for it.
    expect(db.commandCalls(QueryCommand)).toHaveLength(2);
    expect(db.commandCalls(GetCommand, { TableName: 'parley-blocks' })).toHaveLength(1);
    expect(updatesOf('parley-rateLimits')).toHaveLength(1);
    expect(updatesOf('parley-conversationClocks')).toHaveLength(0);
    expect(db.commandCalls(PutCommand)).toHaveLength(0);
    expect(kinesis.commandCalls(PutRecordCommand)).toHaveLength(0);
    routeRead();
    db.on(PutCommand).resolves({});
    kinesis.on(PutRecordCommand).resolves({ SequenceNumber: '1', ShardId: 'shardId-000000000000' });
    expect(await answer).toEqual({ type: 'ACK', msgId: MSG, serverTs: NOW });
  });

  it('closes a connection the device has replaced, answers nothing, gives the device’s token back and stamps and stores nothing', async () => {
    db.on(GetCommand, { TableName: 'parley-routing' }).resolves({ Item: { userId: USER, deviceId: 1, connectionId: 'conn-2=', connectedAt: NOW, expiresAt: NOW / 1000 + 600 } });
    connections.on(PostToConnectionCommand).resolves({});
    connections.on(DeleteConnectionCommand).resolves({});
    expect(await invoke()).toEqual({ statusCode: 200 });
    expect(JSON.parse(Buffer.from(connections.commandCalls(PostToConnectionCommand)[0]!.args[0].input.Data as Uint8Array).toString())).toMatchObject({
      type: 'SESSION_CLOSED',
      reason: 'CONNECTED_ELSEWHERE',
    });
    expect(connections.commandCalls(DeleteConnectionCommand)[0]!.args[0].input.ConnectionId).toBe('conn-1=');
    expect(updatesOf('parley-rateLimits')).toEqual(['SET tat = :bucketNext, expiresAt = :exp', 'SET tat = tat - :cost']);
    expect(updatesOf('parley-conversationClocks')).toEqual([]);
    expect(db.commandCalls(PutCommand)).toHaveLength(0);
    expect(kinesis.commandCalls(PutRecordCommand)).toHaveLength(0);
  });

  it('refuses envelopes that miss a device with MISMATCHED_DEVICES, keeping the device’s token spent, stamping nothing and storing nothing', async () => {
    db.on(QueryCommand, { KeyConditionExpression: 'userId = :u', ExpressionAttributeValues: { ':u': BOB } }).resolves({
      Items: [{ userId: BOB, deviceId: 1, registrationId: 7 }, { userId: BOB, deviceId: 2, registrationId: 9 }],
    });
    expect(await run()).toMatchObject({ type: 'ERROR', code: 'MISMATCHED_DEVICES', missingDevices: [{ userId: BOB, deviceId: 2 }] });
    expect(updatesOf('parley-rateLimits')).toEqual(['SET tat = :bucketNext, expiresAt = :exp']);
    expect(updatesOf('parley-conversationClocks')).toEqual([]);
    expect(db.commandCalls(PutCommand)).toHaveLength(0);
    expect(kinesis.commandCalls(PutRecordCommand)).toHaveLength(0);
  });

  it('refuses a SEND whose device bucket is empty with RATE_LIMITED, stamping nothing', async () => {
    db.on(UpdateCommand, { TableName: 'parley-rateLimits' }).rejects(conditionFailed());
    db.on(GetCommand, { TableName: 'parley-rateLimits' }).resolves({ Item: { tat: NOW + 300 * 200 } });
    db.on(GetCommand, { TableName: 'parley-acceptedMessages' }).resolves({});
    expect(await run()).toMatchObject({ type: 'ERROR', code: 'RATE_LIMITED', retryAfterSeconds: 1 });
    expect(updatesOf('parley-conversationClocks')).toEqual([]);
    expect(db.commandCalls(PutCommand)).toHaveLength(0);
    expect(kinesis.commandCalls(PutRecordCommand)).toHaveLength(0);
  });
});
