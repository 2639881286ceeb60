import { mockClient } from 'aws-sdk-client-mock';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { handler as sync } from '../../lambdas/sync/sync';
import { handler as delivered } from '../../lambdas/sync/delivered';
import { webSocketLimits } from '../../lambdas/protocol/limits';
import { MAX_CIPHERTEXT_CHARS } from '../../lambdas/protocol/frames';
import { messageEvent, mockDeps, NOW, routeCheckPasses, USER } from '../fixtures/aws-events';

const db = mockClient(DynamoDBDocumentClient);
const kinesis = mockClient(KinesisClient);
const deps = mockDeps();
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const position = (n: number) => `${String(NOW + n).padStart(13, '0')}#${id(n)}`;

/** A queued PUSH whose ciphertext is `bytes` long once base64-encoded. */
function queued(n: number, bytes = 8, expiresAt = NOW / 1000 + 3600) {
  return {
    device: `${USER}#1`,
    position: position(n),
    msgId: id(n),
    expiresAt,
    frame: {
      type: 'PUSH',
      msgId: id(n),
      conversationId: 'direct:a:b',
      from: { userId: 'a', deviceId: 1 },
      seq: n,
      serverTs: NOW + n,
      envelope: { type: 'message', ciphertext: 'A'.repeat(bytes) },
      cursor: position(n),
    },
  };
}

async function syncFrom(cursor?: string) {
  const body = JSON.stringify({ action: 'SYNC', requestId: 'r', ...(cursor ? { cursor } : {}) });
  const answer = await sync.withDeps(deps)(messageEvent('SYNC', body, 'conn=', { userId: USER, deviceId: 1 }));
  return { answer: JSON.parse((answer as { body: string }).body), bytes: Buffer.byteLength((answer as { body: string }).body) };
}

beforeEach(() => {
  db.reset();
  routeCheckPasses(db);
  // The device is unknown to the devices table, so no group's timeline is read: SYNC reads its queue alone
  // (group timelines: test/integration/groups.test.ts).
  db.on(GetCommand, { TableName: 'parley-devices' }).resolves({});
});

describe('SYNC', () => {
  it('answers the last page of the queue as QUEUE_EMPTY with its frames, in order', async () => {
    db.on(QueryCommand).resolves({ Items: [queued(1), queued(2)] });
    const { answer } = await syncFrom();
    expect(answer).toMatchObject({ type: 'QUEUE_EMPTY', requestId: 'r' });
    expect(answer.frames.map((f: { msgId: string }) => f.msgId)).toEqual([id(1), id(2)]);
    expect(db.commandCalls(QueryCommand)[0]!.args[0].input).toMatchObject({ Limit: 100, ConsistentRead: true });
  });

  it('answers SYNC_PAGE with the cursor to continue from when the queue has more', async () => {
    db.on(QueryCommand).resolves({ Items: [queued(1), queued(2)], LastEvaluatedKey: { device: `${USER}#1`, position: position(2) } });
    const { answer } = await syncFrom(position(0));
    expect(answer).toMatchObject({ type: 'SYNC_PAGE', cursor: position(2) });
    expect(db.commandCalls(QueryCommand)[0]!.args[0].input.ExpressionAttributeValues).toMatchObject({ ':after': position(0) });
  });

  it('ends a page before it would outgrow one API Gateway message, and continues after its last frame', async () => {
    // Two 60 KB messages fit one answer, a third would not.
    const big = 60_000;
    db.on(QueryCommand).resolves({ Items: [queued(1, big), queued(2, big), queued(3, big)] });
    const { answer, bytes } = await syncFrom();
    expect(answer).toMatchObject({ type: 'SYNC_PAGE', cursor: position(2) });
    expect(answer.frames).toHaveLength(2);
    expect(bytes).toBeLessThanOrEqual(webSocketLimits.messageBytes);
  });

  it('sends a single message of the largest size alone, within one API Gateway message', async () => {
    const largest = MAX_CIPHERTEXT_CHARS;
    db.on(QueryCommand).resolves({ Items: [queued(1, largest), queued(2, largest)] });
    const { answer, bytes } = await syncFrom();
    expect(answer).toMatchObject({ type: 'SYNC_PAGE', cursor: position(1) });
    expect(answer.frames).toHaveLength(1);
    expect(bytes).toBeLessThanOrEqual(webSocketLimits.messageBytes);
  });

  it('never serves an expired item, and keeps paging when a whole page had expired', async () => {
    const expired = NOW / 1000 - 1;
    db.on(QueryCommand).resolves({ Items: [queued(1, 8, expired)], LastEvaluatedKey: { device: `${USER}#1`, position: position(1) } });
    const { answer } = await syncFrom();
    expect(answer).toEqual({ type: 'SYNC_PAGE', frames: [], cursor: position(1), requestId: 'r' });
  });

  it('refuses a malformed cursor with an error frame', async () => {
    const { answer } = await syncFrom('x'.repeat(129));
    expect(answer).toMatchObject({ type: 'ERROR', code: 'BAD_REQUEST', action: 'SYNC' });
    expect(db.commandCalls(QueryCommand)).toHaveLength(0);
  });
});

describe('DELIVERED', () => {
  const deliver = (frame: object) =>
    delivered.withDeps(deps)(messageEvent('DELIVERED', JSON.stringify({ action: 'DELIVERED', ...frame }), 'conn=', { userId: USER, deviceId: 1 }));

  beforeEach(() => {
    db.on(QueryCommand).resolves({ Items: [queued(1)] });
    db.on(DeleteCommand).resolves({});
    kinesis.reset();
    kinesis.on(PutRecordCommand).resolves({ SequenceNumber: '1', ShardId: 'shardId-000000000000' });
  });

  it('answers DELIVERED_ACK when asked with a requestId', async () => {
    const answer = await deliver({ msgIds: [id(1)], requestId: 'd1' });
    expect(JSON.parse(answer.body!)).toEqual({ type: 'DELIVERED_ACK', msgIds: [id(1)], requestId: 'd1' });
    expect(db.commandCalls(DeleteCommand)).toHaveLength(1);
  });

  it('answers nothing without a requestId, and still forgets the messages and sends the receipt', async () => {
    const answer = await deliver({ msgIds: [id(1)] });
    expect(answer).toEqual({ statusCode: 200 });
    expect(db.commandCalls(DeleteCommand)[0]!.args[0].input.Key).toEqual({ device: `${USER}#1`, position: position(1) });
    expect(kinesis.commandCalls(PutRecordCommand)).toHaveLength(1);
  });

  it('answers a bad frame with an error even without a requestId', async () => {
    const answer = await deliver({ msgIds: [] });
    expect(JSON.parse(answer.body!)).toMatchObject({ type: 'ERROR', code: 'BAD_REQUEST' });
  });
});
