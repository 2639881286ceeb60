import { mockClient } from 'aws-sdk-client-mock';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { handler as fanout } from '../../lambdas/fanout/fanout';
import { kinesisRecord, mockDeps, NOW, USER } from '../fixtures/aws-events';

const db = mockClient(DynamoDBDocumentClient);
const connections = mockClient(ApiGatewayManagementApiClient);
const deps = mockDeps();
const BOB = '0d6f3b5e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function record(n: number, conversationId: string, data: unknown = undefined) {
  const body = data ?? {
    kind: 'message',
    msgId: id(n),
    conversationId,
    from: { userId: USER, deviceId: 1 },
    to: BOB,
    seq: n,
    serverTs: NOW + n,
    envelopes: [{ userId: BOB, deviceId: 1, type: 'message', ciphertext: 'AAAA' }],
  };
  return kinesisRecord(body, conversationId, `4959${n}`);
}

beforeEach(() => {
  db.reset();
  connections.reset();
  db.on(GetCommand).resolves({ Item: { userId: BOB, deviceId: 1, connectionId: 'bob-1=', connectedAt: NOW, expiresAt: NOW / 1000 + 600 } });
  connections.on(PostToConnectionCommand).resolves({});
});

describe('fanout', () => {
  it('queues each envelope before pushing it to the live connection', async () => {
    const order: string[] = [];
    db.on(PutCommand).callsFake(() => (order.push('queue'), {}));
    connections.on(PostToConnectionCommand).callsFake(() => (order.push('push'), {}));
    expect(await fanout.withDeps(deps)({ Records: [record(1, 'direct:a')] })).toEqual({ batchItemFailures: [] });
    expect(order).toEqual(['queue', 'push']);
    expect(db.commandCalls(PutCommand)[0]!.args[0].input).toMatchObject({
      ConditionExpression: 'attribute_not_exists(#key)',
      ExpressionAttributeNames: { '#key': 'device' },
      Item: { device: `${BOB}#1`, position: `${String(NOW + 1).padStart(13, '0')}#${id(1)}`, msgId: id(1) },
    });
  });

  it('does not push a message a redelivered batch finds queued already', async () => {
    db.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    expect(await fanout.withDeps(deps)({ Records: [record(1, 'direct:a')] })).toEqual({ batchItemFailures: [] });
    expect(connections.calls()).toHaveLength(0);
  });

  it('reports a failed record and skips the rest of its conversation, but not other conversations', async () => {
    db.on(PutCommand).callsFake((input) => {
      if (input.Item.msgId === id(2)) throw new Error('throttled');
      return {};
    });
    const answer = await fanout.withDeps(deps)({ Records: [record(1, 'direct:a'), record(2, 'direct:a'), record(3, 'direct:a'), record(4, 'direct:b')] });
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: '49592' }] });
    const queued = db.commandCalls(PutCommand).map((call) => call.args[0].input.Item!.msgId);
    expect(queued).toEqual(expect.arrayContaining([id(1), id(2), id(4)]));
    expect(queued).not.toContain(id(3));
  });

  it('reports a record of the wrong shape as failed instead of crashing the batch', async () => {
    db.on(PutCommand).resolves({});
    const answer = await fanout.withDeps(deps)({ Records: [record(1, 'direct:a', { kind: 'nonsense' }), record(2, 'direct:b')] });
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: '49591' }] });
  });

  describe('a connection that answers Gone', () => {
    const routeOpenedAt = (connectedAt: number) =>
      db.on(GetCommand).resolves({ Item: { userId: BOB, deviceId: 1, connectionId: 'bob-1=', connectedAt, expiresAt: NOW / 1000 + 600 } });
    beforeEach(() => {
      db.on(PutCommand).resolves({});
      db.on(DeleteCommand).resolves({});
      connections.on(PostToConnectionCommand).rejects(new GoneException({ message: 'Gone', $metadata: {} }));
    });

    it('loses its route, so the next message does not try it again', async () => {
      routeOpenedAt(NOW - 60_000);
      await fanout.withDeps(deps)({ Records: [record(1, 'direct:a')] });
      expect(db.commandCalls(DeleteCommand)[0]!.args[0].input).toMatchObject({ Key: { userId: BOB, deviceId: 1 }, ExpressionAttributeValues: { ':c': 'bob-1=' } });
    });

    it('keeps its route while it may still be in its handshake, which API Gateway answers Gone too', async () => {
      routeOpenedAt(NOW - 1_000);
      await fanout.withDeps(deps)({ Records: [record(1, 'direct:a')] });
      expect(db.commandCalls(DeleteCommand)).toHaveLength(0);
    });
  });
});
