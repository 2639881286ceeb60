import { mockClient } from 'aws-sdk-client-mock';
import { BatchGetCommand, BatchWriteCommand, DeleteCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { handler as fanout } from '../../lambdas/fanout/fanout';
import { kinesisRecord, mockDeps, NOW, PUSH_APPLICATIONS, USER } from '../fixtures/aws-events';

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
    envelopes: [{ userId: BOB, deviceId: 1, registrationId: 7, type: 'message', ciphertext: 'AAAA' }],
  };
  return kinesisRecord(body, conversationId, `4959${n}`);
}

const route = (connectedAt: number) => ({ userId: BOB, deviceId: 1, connectionId: 'bob-1=', connectedAt, expiresAt: NOW / 1000 + 600 });
const routeOpenedAt = (connectedAt: number) => db.on(BatchGetCommand).resolves({ Responses: { 'parley-routing': [route(connectedAt)] } });
/** The msgIds of the items each queue write put. */
const queuedIds = () =>
  db.commandCalls(BatchWriteCommand).flatMap((call) => call.args[0].input.RequestItems!['parley-deviceQueues']!.map((request) => (request.PutRequest!.Item!.frame as { msgId: string }).msgId));

beforeEach(() => {
  db.reset();
  connections.reset();
  routeOpenedAt(NOW);
  db.on(BatchWriteCommand).resolves({});
  db.on(UpdateCommand).resolves({});
  connections.on(PostToConnectionCommand).resolves({});
});

describe('fanout', () => {
  it('queues each envelope before pushing it to the live connection, its route read in the same batch', async () => {
    const order: string[] = [];
    db.on(BatchWriteCommand).callsFake(() => (order.push('queue'), {}));
    connections.on(PostToConnectionCommand).callsFake(() => (order.push('push'), {}));
    expect(await fanout.withDeps(deps)({ Records: [record(1, 'direct:a')] })).toEqual({ batchItemFailures: [] });
    expect(order).toEqual(['queue', 'push']);
    expect(db.commandCalls(BatchWriteCommand)[0]!.args[0].input.RequestItems!['parley-deviceQueues']).toEqual([
      { PutRequest: { Item: expect.objectContaining({ device: `${BOB}#1`, position: `${String(NOW + 1).padStart(13, '0')}#${id(1)}` }) } },
    ]);
    // No msgId of its own: the item stays out of the queue's sparse byMessage index, so it is one write.
    expect(db.commandCalls(BatchWriteCommand)[0]!.args[0].input.RequestItems!['parley-deviceQueues']![0]!.PutRequest!.Item).not.toHaveProperty('msgId');
    expect(db.commandCalls(BatchGetCommand)[0]!.args[0].input.RequestItems!['parley-routing']!.Keys).toEqual([{ userId: BOB, deviceId: 1 }]);
  });

  it('records the message in each member’s chat list with one write each', async () => {
    await fanout.withDeps(deps)({ Records: [record(1, 'direct:a')] });
    const updates = db.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(updates.map((input) => input.Key)).toEqual(expect.arrayContaining([{ userId: USER, conversationId: 'direct:a' }, { userId: BOB, conversationId: 'direct:a' }]));
    expect(updates).toHaveLength(2);
    expect(updates.find((input) => input.Key!.userId === BOB)!.UpdateExpression).toContain('ADD unreadCount :one');
    // Out of the byActivity index (keyed by lastActivityAt, every attribute projected): one write, not three.
    for (const input of updates) expect(input.UpdateExpression).toMatch(/^SET activityAt = :ts, .* REMOVE lastActivityAt/);
  });

  it('claims an offline device’s wake-up while it lists the message in both chat lists, after the queue write', async () => {
    db.on(BatchGetCommand).resolves({ Responses: { 'parley-routing': [] } }); // Bob's device is offline
    const started: string[] = [];
    let settle!: () => void;
    const held = new Promise<void>((resolve) => (settle = resolve));
    db.on(UpdateCommand).callsFake(async (input: { TableName: string }) => {
      started.push(input.TableName);
      await held;
      return {};
    });
    const done = fanout.withDeps(mockDeps(NOW, PUSH_APPLICATIONS))({ Records: [record(1, 'direct:a')] });
    await new Promise((resolve) => setTimeout(resolve, 20));
    // None of the three has answered, yet all three were sent: the wake-up's claim and the two chat-list rows.
    expect(started.sort()).toEqual(['parley-conversations', 'parley-conversations', 'parley-devices']);
    settle();
    expect(await done).toEqual({ batchItemFailures: [] });
  });

  it('writes and pushes a message again when a redelivered batch brings it again: the device drops the repeat by msgId', async () => {
    await fanout.withDeps(deps)({ Records: [record(1, 'direct:a')] });
    await fanout.withDeps(deps)({ Records: [record(1, 'direct:a')] });
    expect(queuedIds()).toEqual([id(1), id(1)]);
    expect(connections.commandCalls(PostToConnectionCommand)).toHaveLength(2);
  });

  it('reports a failed record and skips the rest of its conversation, but not other conversations', async () => {
    db.on(BatchWriteCommand).callsFake((input) => {
      if (input.RequestItems['parley-deviceQueues'][0].PutRequest.Item.frame.msgId === id(2)) throw new Error('throttled');
      return {};
    });
    const answer = await fanout.withDeps(deps)({ Records: [record(1, 'direct:a'), record(2, 'direct:a'), record(3, 'direct:a'), record(4, 'direct:b')] });
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: '49592' }] });
    expect(queuedIds()).toEqual(expect.arrayContaining([id(1), id(2), id(4)]));
    expect(queuedIds()).not.toContain(id(3));
  });

  it('reports a record of the wrong shape as failed instead of crashing the batch', async () => {
    const answer = await fanout.withDeps(deps)({ Records: [record(1, 'direct:a', { kind: 'nonsense' }), record(2, 'direct:b')] });
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: '49591' }] });
  });

  describe('a connection that answers Gone', () => {
    beforeEach(() => {
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
