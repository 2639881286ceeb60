import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { checkWatermark, memberMovedOn, WATERMARK_RECHECK_MS } from '../../lambdas/fanout/group-receipts';
import { mockDeps, NOW, USER } from '../fixtures/aws-events';

const db = mockClient(DynamoDBDocumentClient);
const deps = mockDeps();
const GROUP = '3c9e1f2a-5b6d-4e7f-8a9b-0c1d2e3f4a5b';
const CONVERSATION = `group:${GROUP}`;
const WATERMARK_KEY = { conversationId: CONVERSATION, userId: '#everyone' };
const by = { userId: USER, deviceId: 1 };
const [ANN, BEN, CAT] = ['a1a1a1a1-0000-4000-8000-000000000001', 'b2b2b2b2-0000-4000-8000-000000000002', 'c3c3c3c3-0000-4000-8000-000000000003'];

/** The group of Ann, Ben and Cat, and their items in `groupDelivery` as a recomputation reads them. */
function groupOfThree(items: Record<string, unknown>[]) {
  db.on(GetCommand, { TableName: 'parley-groups' }).resolves({ Item: { groupId: GROUP, version: 1, revision: 1, members: { [ANN]: {}, [BEN]: {}, [CAT]: {} } } });
  db.on(QueryCommand, { TableName: 'parley-groupDelivery' }).resolves({ Items: items.map((item) => ({ conversationId: CONVERSATION, ...item })) });
  db.on(QueryCommand, { TableName: 'parley-groupTimeline' }).resolves({ Items: [] });
  db.on(PutCommand).resolves({});
  db.on(UpdateCommand).resolves({});
}

const marksWritten = () =>
  db
    .commandCalls(UpdateCommand)
    .map((call) => call.args[0].input)
    .filter((input) => /countedAt/.test(JSON.stringify(input.ExpressionAttributeNames)))
    .map((input) => input.Key?.userId);

beforeEach(() => db.reset());

describe('memberMovedOn', () => {
  it('reads and writes nothing for a member the watermark did not count where it stood: past it, it was counted elsewhere', async () => {
    await memberMovedOn(deps, CONVERSATION, { had: '0003', counted: false }, by);
    expect(db.calls()).toHaveLength(0);
  });

  it('counts a member counted at the watermark out of it, on the condition that it still stands there', async () => {
    db.on(UpdateCommand).resolves({ Attributes: { upTo: '0002', atMin: 2, setAt: NOW - WATERMARK_RECHECK_MS + 1 } });
    await memberMovedOn(deps, CONVERSATION, { had: '0002', counted: true }, by);
    expect(db.calls()).toHaveLength(1);
    expect(db.commandCalls(UpdateCommand)[0]!.args[0].input).toMatchObject({
      Key: WATERMARK_KEY,
      ConditionExpression: 'upTo = :upTo',
      ExpressionAttributeValues: { ':minusLeft': -1, ':upTo': '0002' },
    });
  });

  it('computes the watermark again when the last member counted there moves on', async () => {
    groupOfThree([{ userId: ANN, position: '0005' }, { userId: BEN, cursor1: '0004' }, { userId: CAT, position: '0004' }]);
    db.on(UpdateCommand, { Key: WATERMARK_KEY }).resolves({ Attributes: { atMin: 0 } });
    await memberMovedOn(deps, CONVERSATION, { had: '0002', counted: true }, by);
    expect(db.commandCalls(PutCommand)[0]!.args[0].input).toMatchObject({
      Item: { ...WATERMARK_KEY, upTo: '0004', atMin: 2, setAt: NOW },
      ConditionExpression: 'upTo = :from',
      ExpressionAttributeValues: { ':from': '0002' },
    });
    // Ben and Cat now stand at it: each carries it, so that its own move tells it was counted.
    expect(marksWritten().sort()).toEqual([BEN, CAT].sort());
  });

  it('computes again a watermark that has stood too long when a member counts itself out and others are still counted: one may have died before its count', async () => {
    groupOfThree([{ userId: ANN, position: '0005' }, { userId: BEN, position: '0003' }, { userId: CAT, position: '0004' }]);
    db.on(UpdateCommand, { Key: WATERMARK_KEY }).resolves({ Attributes: { upTo: '0002', atMin: 1, setAt: NOW - WATERMARK_RECHECK_MS } });
    await memberMovedOn(deps, CONVERSATION, { had: '0002', counted: true }, by);
    expect(db.commandCalls(PutCommand)[0]!.args[0].input).toMatchObject({ Item: { upTo: '0003', atMin: 1 }, ExpressionAttributeValues: { ':from': '0002' } });
  });
});

describe('checkWatermark', () => {
  it('reads the watermark eventually consistent, and leaves one computed lately alone', async () => {
    db.on(GetCommand).resolves({ Item: { upTo: '0002', atMin: 3, setAt: NOW - WATERMARK_RECHECK_MS + 1 } });
    await checkWatermark(deps, CONVERSATION, by);
    expect(db.calls()).toHaveLength(1);
    expect(db.commandCalls(GetCommand)[0]!.args[0].input).toEqual({ TableName: 'parley-groupDelivery', Key: WATERMARK_KEY });
  });

  it('computes a watermark that has stood too long again: a member that died before counting itself out holds it', async () => {
    groupOfThree([
      { userId: ANN, position: '0005' },
      { userId: BEN, cursor1: '0002', countedAt: '0002' },
      { userId: CAT, position: '0003' },
    ]);
    db.on(GetCommand, { Key: WATERMARK_KEY }).resolves({ Item: { upTo: '0002', atMin: 2, setAt: NOW - WATERMARK_RECHECK_MS } });
    await checkWatermark(deps, CONVERSATION, by);
    expect(db.commandCalls(QueryCommand, { TableName: 'parley-groupDelivery' })[0]!.args[0].input).toMatchObject({ ConsistentRead: true });
    // Cat died before counting herself out: the count is 1, not 2, and Ben, marked there already, is not written again.
    expect(db.commandCalls(PutCommand)[0]!.args[0].input).toMatchObject({ Item: { upTo: '0002', atMin: 1 } });
    expect(marksWritten()).toEqual([]);
  });

  it("computes a group's first watermark and marks every member it counts, one with no item too", async () => {
    groupOfThree([{ userId: ANN, position: '0005' }, { userId: BEN, position: '0001' }]);
    db.on(GetCommand, { Key: WATERMARK_KEY }).resolves({});
    await checkWatermark(deps, CONVERSATION, by);
    expect(db.commandCalls(PutCommand)[0]!.args[0].input).toMatchObject({ Item: { upTo: '', atMin: 1 }, ConditionExpression: 'attribute_not_exists(upTo)' });
    expect(marksWritten()).toEqual([CAT]);
  });
});
