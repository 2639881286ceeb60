import { mockClient } from 'aws-sdk-client-mock';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetTogether } from '../../lambdas/tables/batch-requests';
import { groupWindowRowsRead } from '../../lambdas/tables/conversations';
import { deviceCursorsRead } from '../../lambdas/tables/group-delivery';
import { mockDeps } from '../fixtures/aws-events';

const db = mockClient(DynamoDBDocumentClient);
const deps = mockDeps();
const groups = (count: number) => Array.from({ length: count }, (_, i) => `group:g${i}`);

beforeEach(() => db.reset());

describe('batchGetTogether', () => {
  it("reads a DELIVERED's group rows and the device's cursors in one request, each table as its module asks, and answers each", async () => {
    db.on(BatchGetCommand).resolves({
      Responses: {
        'parley-conversations': [{ conversationId: 'group:g0', activityAt: 5, joinedPosition: 'j' }, { conversationId: 'group:g1' }],
        'parley-groupDelivery': [{ conversationId: 'group:g0', cursor2: 'c' }],
      },
    });
    const [rows, cursors] = await batchGetTogether(deps, [groupWindowRowsRead('u', groups(2)), deviceCursorsRead('u', 2, groups(2))] as const);
    // A row without activity is none, as a query of the user's groups answers it.
    expect(rows).toEqual([{ conversationId: 'group:g0', joinedPosition: 'j', lastActivityAt: 5 }]);
    expect(cursors).toEqual(new Map([['group:g0', 'c']]));
    const calls = db.commandCalls(BatchGetCommand);
    expect(calls).toHaveLength(1);
    const { 'parley-conversations': conversations, 'parley-groupDelivery': delivery } = calls[0]!.args[0].input.RequestItems!;
    expect(conversations).toMatchObject({ Keys: [{ userId: 'u', conversationId: 'group:g0' }, { userId: 'u', conversationId: 'group:g1' }] });
    expect(conversations!.ConsistentRead).toBeUndefined();
    // The cursor alone, strongly consistent: not the member's other devices' cursors and previews.
    expect(delivery).toMatchObject({ ConsistentRead: true, ProjectionExpression: '#p0, #p1', ExpressionAttributeNames: { '#p0': 'conversationId', '#p1': 'cursor2' } });
  });

  it('asks again for the keys DynamoDB leaves unprocessed, of either table', async () => {
    db.on(BatchGetCommand)
      .resolvesOnce({
        Responses: { 'parley-conversations': [{ conversationId: 'group:g0', activityAt: 1 }] },
        UnprocessedKeys: { 'parley-groupDelivery': { Keys: [{ conversationId: 'group:g0', userId: 'u' }], ConsistentRead: true } },
      })
      .resolvesOnce({ Responses: { 'parley-groupDelivery': [{ conversationId: 'group:g0', cursor1: 'c' }] } });
    const [rows, cursors] = await batchGetTogether(deps, [groupWindowRowsRead('u', groups(1)), deviceCursorsRead('u', 1, groups(1))] as const);
    expect(rows.map((row) => row.conversationId)).toEqual(['group:g0']);
    expect(cursors).toEqual(new Map([['group:g0', 'c']]));
    const calls = db.commandCalls(BatchGetCommand);
    expect(calls).toHaveLength(2);
    expect(Object.keys(calls[1]!.args[0].input.RequestItems!)).toEqual(['parley-groupDelivery']);
  });

  it('reads each table on its own, in calls of 100 keys, when the keys do not fit one call', async () => {
    db.on(BatchGetCommand).resolves({ Responses: {} });
    const [rows, cursors] = await batchGetTogether(deps, [groupWindowRowsRead('u', groups(60)), deviceCursorsRead('u', 1, groups(60))] as const);
    expect(rows).toEqual([]);
    expect(cursors).toEqual(new Map());
    const tablesPerCall = db.commandCalls(BatchGetCommand).map((call) => Object.keys(call.args[0].input.RequestItems!));
    expect(tablesPerCall.sort()).toEqual([['parley-conversations'], ['parley-groupDelivery']]);
  });

  it('sends nothing when no table has a key to read', async () => {
    const [rows] = await batchGetTogether(deps, [groupWindowRowsRead('u', [])] as const);
    expect(rows).toEqual([]);
    expect(db.commandCalls(BatchGetCommand)).toHaveLength(0);
  });
});
