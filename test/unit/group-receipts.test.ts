import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { memberMovedOn, WATERMARK_RECHECK_MS } from '../../lambdas/fanout/group-receipts';
import { mockDeps, NOW, USER } from '../fixtures/aws-events';

const db = mockClient(DynamoDBDocumentClient);
const deps = mockDeps();
const CONVERSATION = 'group:3c9e1f2a-5b6d-4e7f-8a9b-0c1d2e3f4a5b';
const by = { userId: USER, deviceId: 1 };

beforeEach(() => db.reset());

describe('memberMovedOn', () => {
  it('reads the watermark strongly consistent: a recomputation just before may have counted the member there', async () => {
    db.on(GetCommand).resolves({ Item: { upTo: '0002', atMin: 3, setAt: NOW } });
    await memberMovedOn(deps, CONVERSATION, '0003', by);
    expect(db.commandCalls(GetCommand).map((call) => call.args[0].input)).toEqual([
      expect.objectContaining({ Key: { conversationId: CONVERSATION, userId: '#everyone' }, ConsistentRead: true }),
    ]);
    // Past the watermark: counted elsewhere, nothing to count, nothing read again.
    expect(db.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(db.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('computes a watermark that has stood too long again when a member moves on past it: a member that died before counting itself out holds it', async () => {
    db.on(GetCommand).resolves({});
    db.on(GetCommand, { Key: { conversationId: CONVERSATION, userId: '#everyone' } }).resolves({ Item: { upTo: '0002', atMin: 1, setAt: NOW - WATERMARK_RECHECK_MS } });
    // The group is gone: the recomputation reads the positions and the group, and finds nothing to compute.
    db.on(QueryCommand).resolves({ Items: [] });
    await memberMovedOn(deps, CONVERSATION, '0003', by);
    expect(db.commandCalls(QueryCommand).map((call) => call.args[0].input)).toEqual([expect.objectContaining({ ConsistentRead: true })]);
  });

  it('counts a member that stood at the watermark out of it, on the condition that it still stands there', async () => {
    db.on(GetCommand).resolves({ Item: { upTo: '0002', atMin: 3, setAt: NOW } });
    db.on(UpdateCommand).resolves({ Attributes: { atMin: 2 } });
    await memberMovedOn(deps, CONVERSATION, '0002', by);
    expect(db.commandCalls(UpdateCommand).map((call) => call.args[0].input)).toEqual([
      expect.objectContaining({ ConditionExpression: 'upTo = :upTo', ExpressionAttributeValues: { ':minusLeft': -1, ':upTo': '0002' } }),
    ]);
  });
});
