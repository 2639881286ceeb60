import { mockClient } from 'aws-sdk-client-mock';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { handler as delivered } from '../../lambdas/sync/delivered';
import { messageEvent, mockDeps, NOW, USER } from '../fixtures/aws-events';

const db = mockClient(DynamoDBDocumentClient);
const kinesis = mockClient(KinesisClient);
const connections = mockClient(ApiGatewayManagementApiClient);
const deps = mockDeps();
const ALICE = '0d6f3b5e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
const MSG = '9f1c2b3a-4d5e-4f60-8a7b-6c5d4e3f2a1b';
const cursorOf = (serverTs: number, msgId = MSG) => `${String(serverTs).padStart(13, '0')}#${msgId}`;

/** The caller's queued copy of a message, as the fanout wrote it. */
const queued = (conversationId: string, serverTs: number, from = ALICE, msgId = MSG) => ({
  device: `${USER}#1`,
  position: cursorOf(serverTs, msgId),
  expiresAt: NOW / 1000 + 3600,
  frame: { type: 'PUSH', msgId, conversationId, from: { userId: from, deviceId: 1 }, seq: 1, serverTs, envelope: { type: 'message', ciphertext: 'AAAA' }, cursor: cursorOf(serverTs, msgId) },
});
/** The delete of a cursor answers the item it took. */
const takes = (...items: ReturnType<typeof queued>[]) => {
  for (const item of items) db.on(DeleteCommand, { Key: { device: item.device, position: item.position } }).resolves({ Attributes: item });
};
/** Sends a DELIVERED with a requestId, so that it is answered; answers the answer without it. */
async function run(frame: object) {
  const event = messageEvent('DELIVERED', JSON.stringify({ action: 'DELIVERED', requestId: 'd', ...frame }), 'conn-1=', { userId: USER, deviceId: 1 });
  const { requestId, ...answer } = JSON.parse((await delivered.withDeps(deps)(event)).body!);
  expect(requestId).toBe('d');
  return answer;
}
const updates = (expression: string) => db.commandCalls(UpdateCommand).map((call) => call.args[0].input).filter((input) => input.UpdateExpression!.includes(expression));
const ALICE_ROUTES = [
  { userId: ALICE, deviceId: 1, connectionId: 'alice-1=', connectedAt: NOW - 60_000, expiresAt: NOW / 1000 + 600 },
  { userId: ALICE, deviceId: 2, connectionId: 'alice-2=', connectedAt: NOW - 60_000, expiresAt: NOW / 1000 + 600 },
];

beforeEach(() => {
  db.reset();
  kinesis.reset();
  connections.reset();
  db.on(DeleteCommand).resolves({});
  db.on(UpdateCommand).resolves({});
  db.on(QueryCommand, { TableName: 'parley-routing' }).resolves({ Items: ALICE_ROUTES });
  connections.on(PostToConnectionCommand).resolves({});
  kinesis.on(PutRecordCommand).resolves({ SequenceNumber: '1', ShardId: 'shardId-000000000000' });
});

describe('DELIVERED', () => {
  it('deletes each acknowledged frame by its cursor, the queue’s own key, and answers the cursors when asked', async () => {
    takes(queued('direct:x:y', NOW - 10));
    expect(await run({ cursors: [cursorOf(NOW - 10)] })).toEqual({ type: 'DELIVERED_ACK', cursors: [cursorOf(NOW - 10)] });
    expect(db.commandCalls(DeleteCommand)[0]!.args[0].input).toEqual({
      TableName: 'parley-deviceQueues',
      Key: { device: `${USER}#1`, position: cursorOf(NOW - 10) },
      ReturnValues: 'ALL_OLD',
    });
  });

  it('answers nothing without a requestId, and does not read the connection’s route first', async () => {
    takes(queued('direct:x:y', NOW - 10));
    const event = messageEvent('DELIVERED', JSON.stringify({ action: 'DELIVERED', cursors: [cursorOf(NOW - 10)] }), 'conn=', { userId: USER, deviceId: 1 });
    expect(await delivered.withDeps(deps)(event)).toEqual({ statusCode: 200 });
    expect(db.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('refuses a bad frame with an error even without a requestId, and deletes nothing', async () => {
    for (const cursors of [[], ['not-a-cursor'], [MSG]]) {
      const event = messageEvent('DELIVERED', JSON.stringify({ action: 'DELIVERED', cursors }), 'conn=', { userId: USER, deviceId: 1 });
      expect(JSON.parse((await delivered.withDeps(deps)(event)).body!)).toMatchObject({ type: 'ERROR', code: 'BAD_REQUEST' });
    }
    expect(db.commandCalls(DeleteCommand)).toHaveLength(0);
  });
});

describe('DELIVERED delivery state (two grey ticks of a 1:1 chat)', () => {
  const OTHER = '7e1c2b3a-4d5e-4f60-8a7b-6c5d4e3f2a1b';

  it('moves the sender’s state up to the newest message of the conversation, and pushes it to the sender’s live devices', async () => {
    takes(queued('direct:x:y', NOW - 20), queued('direct:x:y', NOW - 10, ALICE, OTHER));
    await run({ cursors: [cursorOf(NOW - 20), cursorOf(NOW - 10, OTHER)] });
    expect(updates('deliveredUpTo')).toEqual([
      expect.objectContaining({
        Key: { userId: ALICE, conversationId: 'direct:x:y' },
        ConditionExpression: 'attribute_not_exists(deliveredUpTo) OR deliveredUpTo < :upTo',
        ExpressionAttributeValues: { ':upTo': NOW - 10, ':m': [MSG, OTHER], ':by': { userId: USER, deviceId: 1 }, ':at': NOW },
      }),
    ]);
    const posts = connections.commandCalls(PostToConnectionCommand).map((call) => [call.args[0].input.ConnectionId, JSON.parse(Buffer.from(call.args[0].input.Data as Uint8Array).toString())]);
    expect(posts.map(([connection]) => connection).sort()).toEqual(['alice-1=', 'alice-2=']);
    expect(posts[0]![1]).toEqual({
      type: 'RECEIPT',
      receiptId: expect.any(String),
      status: 'delivered',
      conversationId: 'direct:x:y',
      msgIds: [MSG, OTHER],
      by: { userId: USER, deviceId: 1 },
      upToServerTs: NOW - 10,
      serverTs: NOW,
    });
    expect(kinesis.commandCalls(PutRecordCommand)).toHaveLength(0);
  });

  it('pushes nothing when another device of the user moved the state as far already: one receipt per user', async () => {
    takes(queued('direct:x:y', NOW - 10));
    db.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'as far', $metadata: {} }));
    expect(await run({ cursors: [cursorOf(NOW - 10)] })).toEqual({ type: 'DELIVERED_ACK', cursors: [cursorOf(NOW - 10)] });
    expect(connections.commandCalls(PostToConnectionCommand)).toHaveLength(0);
  });

  it('does nothing more for a cursor that is gone already (a retried DELIVERED), nor for a user’s own message', async () => {
    takes(queued('direct:x:y', NOW - 10, USER));
    await run({ cursors: [cursorOf(NOW - 10), cursorOf(NOW - 5)] });
    expect(db.commandCalls(DeleteCommand)).toHaveLength(2);
    expect(updates('deliveredUpTo')).toHaveLength(0);
    expect(connections.commandCalls(PostToConnectionCommand)).toHaveLength(0);
  });

  it('counts a group message towards its tally through the stream instead', async () => {
    takes(queued('group:g', NOW - 10));
    await run({ cursors: [cursorOf(NOW - 10)] });
    expect(updates('deliveredUpTo')).toHaveLength(0);
    const record = JSON.parse(Buffer.from(kinesis.commandCalls(PutRecordCommand)[0]!.args[0].input.Data as Uint8Array).toString());
    expect(record).toMatchObject({ kind: 'receipt', status: 'delivered', conversationId: 'group:g', msgIds: [MSG], recipients: [ALICE] });
  });

  it('queues what it took again when the state cannot be written, so nothing of the acknowledgement is lost', async () => {
    takes(queued('direct:x:y', NOW - 10));
    db.on(UpdateCommand).rejects(new Error('throttled'));
    db.on(PutCommand).resolves({});
    expect(await run({ cursors: [cursorOf(NOW - 10)] })).toMatchObject({ type: 'ERROR', code: 'INTERNAL' });
    expect(db.commandCalls(PutCommand)[0]!.args[0].input).toMatchObject({ TableName: 'parley-deviceQueues', Item: queued('direct:x:y', NOW - 10) });
  });
});

describe('DELIVERED previews', () => {
  it('stores a preview in the caller’s own row, for the conversation and serverTs of the message it took', async () => {
    takes(queued('direct:x:y', NOW - 10));
    expect(await run({ cursors: [cursorOf(NOW - 10)], previews: [{ msgId: MSG, ciphertext: 'cHJldmlldw==' }] })).toEqual({ type: 'DELIVERED_ACK', cursors: [cursorOf(NOW - 10)] });
    expect(updates('preview = :c')).toEqual([
      expect.objectContaining({
        TableName: 'parley-conversations',
        Key: { userId: USER, conversationId: 'direct:x:y' },
        ExpressionAttributeValues: { ':c': 'cHJldmlldw==', ':m': MSG, ':ts': NOW - 10 },
      }),
    ]);
  });

  it('acknowledges normally when a newer preview is stored already', async () => {
    takes(queued('direct:x:y', NOW - 10));
    db.on(UpdateCommand, { UpdateExpression: 'SET preview = :c, previewMsgId = :m, previewServerTs = :ts' }).rejects(new ConditionalCheckFailedException({ message: 'newer', $metadata: {} }));
    expect(await run({ cursors: [cursorOf(NOW - 10)], previews: [{ msgId: MSG, ciphertext: 'AAAA' }] })).toEqual({ type: 'DELIVERED_ACK', cursors: [cursorOf(NOW - 10)] });
  });

  it('writes no preview of a 1:1 message whose state another device of the user moved first: that device wrote it', async () => {
    takes(queued('direct:x:y', NOW - 10));
    db.on(UpdateCommand, { ConditionExpression: 'attribute_not_exists(deliveredUpTo) OR deliveredUpTo < :upTo' }).rejects(
      new ConditionalCheckFailedException({ message: 'as far', $metadata: {} }),
    );
    expect(await run({ cursors: [cursorOf(NOW - 10)], previews: [{ msgId: MSG, ciphertext: 'AAAA' }] })).toEqual({ type: 'DELIVERED_ACK', cursors: [cursorOf(NOW - 10)] });
    expect(updates('deliveredUpTo')).toHaveLength(1);
    expect(updates('preview = :c')).toHaveLength(0);
  });

  it('still writes the preview of a group message, and of the user’s own message from another device, which move no state', async () => {
    const OWN = '5b1c2b3a-4d5e-4f60-8a7b-6c5d4e3f2a1b';
    takes(queued('group:g', NOW - 10), queued('direct:x:y', NOW - 5, USER, OWN));
    await run({ cursors: [cursorOf(NOW - 10), cursorOf(NOW - 5, OWN)], previews: [{ msgId: MSG, ciphertext: 'AAAA' }, { msgId: OWN, ciphertext: 'BBBB' }] });
    expect(updates('preview = :c').map((input) => input.Key)).toEqual([
      { userId: USER, conversationId: 'group:g' },
      { userId: USER, conversationId: 'direct:x:y' },
    ]);
  });

  it('ignores and names a preview whose message it did not take (acknowledged before), or whose msgId two senders used', async () => {
    expect(await run({ cursors: [cursorOf(NOW - 10)], previews: [{ msgId: MSG, ciphertext: 'AAAA' }] })).toMatchObject({ ignoredPreviews: [MSG] });
    takes(queued('direct:x:y', NOW - 10), queued('direct:x:z', NOW - 5, USER));
    expect(await run({ cursors: [cursorOf(NOW - 10), cursorOf(NOW - 5)], previews: [{ msgId: MSG, ciphertext: 'AAAA' }] })).toMatchObject({ ignoredPreviews: [MSG] });
    expect(updates('preview = :c')).toHaveLength(0);
  });
});
