import { mockClient } from 'aws-sdk-client-mock';
import { DeleteCommand, DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { handler as delivered } from '../../lambdas/sync/delivered';
import { messageEvent, mockDeps, NOW, routeCheckPasses, USER } from '../fixtures/aws-events';

const db = mockClient(DynamoDBDocumentClient);
const kinesis = mockClient(KinesisClient);
const deps = mockDeps();
const ALICE = '0d6f3b5e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
const MSG = '9f1c2b3a-4d5e-4f60-8a7b-6c5d4e3f2a1b';

/** The caller's queued copy of MSG, as the fanout wrote it. */
const queued = (conversationId: string, serverTs: number, from = ALICE) => ({
  device: `${USER}#1`,
  position: `${String(serverTs).padStart(13, '0')}#${MSG}`,
  msgId: MSG,
  expiresAt: NOW / 1000 + 3600,
  frame: { type: 'PUSH', msgId: MSG, conversationId, from: { userId: from, deviceId: 1 }, seq: 1, serverTs, envelope: { type: 'message', ciphertext: 'AAAA' }, cursor: 'c' },
});
/** Sends a DELIVERED with a requestId, so that it is answered; answers the answer without it. */
async function run(frame: object) {
  const event = messageEvent('DELIVERED', JSON.stringify({ action: 'DELIVERED', requestId: 'd', ...frame }), 'conn-1=', { userId: USER, deviceId: 1 });
  const { requestId, ...answer } = JSON.parse((await delivered.withDeps(deps)(event)).body!);
  expect(requestId).toBe('d');
  return answer;
}
const previewWrites = () => db.commandCalls(UpdateCommand).map((call) => call.args[0].input);

beforeEach(() => {
  db.reset();
  routeCheckPasses(db);
  kinesis.reset();
  db.on(DeleteCommand).resolves({});
  kinesis.on(PutRecordCommand).resolves({ SequenceNumber: '1', ShardId: 'shardId-000000000000' });
});

describe('DELIVERED previews', () => {
  it('stores a preview in the caller’s own row, for the conversation and serverTs of its queued message', async () => {
    db.on(QueryCommand).resolves({ Items: [queued('direct:x:y', NOW - 10)] });
    db.on(UpdateCommand).resolves({});
    expect(await run({ msgIds: [MSG], previews: [{ msgId: MSG, ciphertext: 'cHJldmlldw==' }] })).toEqual({ type: 'DELIVERED_ACK', msgIds: [MSG] });
    expect(previewWrites()).toEqual([
      expect.objectContaining({
        TableName: 'parley-conversations',
        Key: { userId: USER, conversationId: 'direct:x:y' },
        ExpressionAttributeValues: { ':c': 'cHJldmlldw==', ':m': MSG, ':ts': NOW - 10 },
      }),
    ]);
  });

  it('looks the preview up before the message leaves the queue', async () => {
    const order: string[] = [];
    db.on(QueryCommand).callsFake(() => (order.push('find'), { Items: [queued('direct:x:y', NOW - 10)] }));
    db.on(UpdateCommand).callsFake(() => (order.push('preview'), {}));
    db.on(DeleteCommand).callsFake(() => (order.push('delete'), {}));
    await run({ msgIds: [MSG], previews: [{ msgId: MSG, ciphertext: 'AAAA' }] });
    expect(order.indexOf('preview')).toBeLessThan(order.indexOf('delete'));
  });

  it('acknowledges normally when a newer preview is stored already', async () => {
    db.on(QueryCommand).resolves({ Items: [queued('direct:x:y', NOW - 10)] });
    db.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'newer', $metadata: {} }));
    expect(await run({ msgIds: [MSG], previews: [{ msgId: MSG, ciphertext: 'AAAA' }] })).toEqual({ type: 'DELIVERED_ACK', msgIds: [MSG] });
  });

  it('ignores and names a preview whose msgId two senders used, as its conversation is not known', async () => {
    db.on(QueryCommand).resolves({ Items: [queued('direct:x:y', NOW - 10), queued('direct:x:z', NOW - 5, USER)] });
    expect(await run({ msgIds: [MSG], previews: [{ msgId: MSG, ciphertext: 'AAAA' }] })).toMatchObject({ ignoredPreviews: [MSG] });
    expect(previewWrites()).toHaveLength(0);
  });
});
