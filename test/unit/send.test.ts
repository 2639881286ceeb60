import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { handler as send } from '../../lambdas/send/send';
import { directConversationId } from '../../lambdas/send/conversations';
import { messageEvent, mockDeps, NOW, USER } from '../fixtures/aws-events';

const db = mockClient(DynamoDBDocumentClient);
const kinesis = mockClient(KinesisClient);
const deps = mockDeps();
const BOB = '0d6f3b5e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
const MSG = '9f1c2b3a-4d5e-4f60-8a7b-6c5d4e3f2a1b';
const frame = {
  action: 'SEND',
  msgId: MSG,
  conversationId: directConversationId(USER, BOB),
  to: BOB,
  seq: 3,
  envelopes: [{ userId: BOB, deviceId: 1, type: 'prekey', ciphertext: 'AAAA' }],
};
const run = async () => JSON.parse((await send.withDeps(deps)(messageEvent('SEND', JSON.stringify(frame), 'conn-1=', { userId: USER, deviceId: 1 }))).body!);

beforeEach(() => {
  db.reset();
  kinesis.reset();
  db.on(QueryCommand, { KeyConditionExpression: 'userId = :u', ExpressionAttributeValues: { ':u': BOB } }).resolves({ Items: [{ userId: BOB, deviceId: 1 }] });
  db.on(QueryCommand, { KeyConditionExpression: 'userId = :u', ExpressionAttributeValues: { ':u': USER } }).resolves({ Items: [{ userId: USER, deviceId: 1 }] });
});

describe('send', () => {
  it('stamps the message, then puts it on the stream keyed by conversation, then answers ACK', async () => {
    const order: string[] = [];
    db.on(PutCommand).callsFake(() => (order.push('stamp'), {}));
    kinesis.on(PutRecordCommand).callsFake(() => (order.push('put'), { SequenceNumber: '1', ShardId: 'shardId-000000000000' }));
    expect(await run()).toEqual({ type: 'ACK', msgId: MSG, serverTs: NOW });
    expect(order).toEqual(['stamp', 'put']);
    expect(kinesis.commandCalls(PutRecordCommand)[0]!.args[0].input.PartitionKey).toBe(frame.conversationId);
  });

  it('answers a retried SEND with the first stamp, and puts the record again in case the first put failed', async () => {
    db.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    db.on(GetCommand).resolves({ Item: { messageKey: `${USER}#${MSG}`, conversationId: frame.conversationId, serverTs: NOW - 5000 } });
    kinesis.on(PutRecordCommand).resolves({ SequenceNumber: '2', ShardId: 'shardId-000000000000' });
    expect(await run()).toEqual({ type: 'ACK', msgId: MSG, serverTs: NOW - 5000 });
    expect(JSON.parse(Buffer.from(kinesis.commandCalls(PutRecordCommand)[0]!.args[0].input.Data!).toString()).serverTs).toBe(NOW - 5000);
  });

  it('sends no ACK when the stream refuses the record: the client retries', async () => {
    db.on(PutCommand).resolves({});
    kinesis.on(PutRecordCommand).rejects(new Error('ProvisionedThroughputExceededException'));
    expect(await run()).toMatchObject({ type: 'ERROR', code: 'INTERNAL', action: 'SEND' });
  });
});
