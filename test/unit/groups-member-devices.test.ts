import { mockClient } from 'aws-sdk-client-mock';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { listJoinedDevices, listUnlistedDevices } from '../../lambdas/groups/member-devices';
import type { GroupMember, GroupRecord } from '../../lambdas/tables/groups';
import { mockDeps, NOW } from '../fixtures/aws-events';

const db = mockClient(DynamoDBDocumentClient);
const deps = mockDeps();
const [ANN, BEN, CAT, DAN] = ['ann', 'ben', 'cat', 'dan'];
const refused = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

const member = (joinedVersion: number, devices?: number[]): GroupMember => ({ role: 'member', joinedAt: NOW, joinedVersion, ...(devices ? { devices } : {}) });

function groupWith(members: Record<string, GroupMember>, revision?: number): GroupRecord {
  return {
    groupId: 'g1',
    name: 'g',
    createdBy: ANN,
    createdAt: NOW,
    version: 2,
    members,
    lastChange: { by: ANN, added: [], removed: [], madeAdmin: [] },
    changedAt: NOW,
    ...(revision === undefined ? {} : { revision }),
  };
}

/** The members map and condition values each members write sent. */
const membersWrites = () =>
  db.commandCalls(UpdateCommand).map(({ args: [{ input }] }) => ({
    members: input.ExpressionAttributeValues![':members'] as Record<string, GroupMember>,
    condition: input.ConditionExpression,
    values: input.ExpressionAttributeValues,
  }));

beforeEach(() => db.reset());

describe('listUnlistedDevices', () => {
  // Ann lists her ids; Ben and Cat list none; Dan has no device found; 'eve' is not a member (a removed user).
  const group = groupWith({ [ANN]: member(1, [1]), [BEN]: member(1), [CAT]: member(2), [DAN]: member(1) });
  const found = [
    { userId: BEN, deviceId: 2 },
    { userId: BEN, deviceId: 1 },
    { userId: BEN, deviceId: 2 },
    { userId: CAT, deviceId: 1 },
    { userId: ANN, deviceId: 1 },
    { userId: 'eve', deviceId: 1 },
  ];

  it('writes every member without ids its devices found, sorted, in one write conditioned on the group being unchanged since it was read', async () => {
    db.on(UpdateCommand).resolves({});
    await listUnlistedDevices(deps, group, found);
    const [write, ...more] = membersWrites();
    expect(more).toEqual([]);
    expect(write!.members).toEqual({ [ANN]: member(1, [1]), [BEN]: member(1, [1, 2]), [CAT]: member(2, [1]), [DAN]: member(1) });
    // A group from before `revision` was kept: unchanged means still without one.
    expect(write!.condition).toBe('version = :previous AND attribute_not_exists(revision)');
    expect(write!.values).toMatchObject({ ':previous': 2, ':next': 1 });
  });

  it('reads the group again when the write is refused, and writes only the entries still without ids, of the same joining', async () => {
    const current = groupWith({ [ANN]: member(1, [1]), [BEN]: member(1, [1, 2, 3]), [CAT]: member(2), [DAN]: member(1) }, 4);
    db.on(UpdateCommand).rejectsOnce(refused()).resolves({});
    db.on(GetCommand).resolves({ Item: current });
    await listUnlistedDevices(deps, group, found);
    const [, second, ...more] = membersWrites();
    expect(more).toEqual([]);
    // Ben's entry got ids meanwhile (a link started them): they stay as written.
    expect(second!.members).toEqual({ ...current.members, [CAT]: member(2, [1]) });
    expect(second!.condition).toBe('version = :previous AND revision = :revision');
    expect(second!.values).toMatchObject({ ':previous': 2, ':revision': 4, ':next': 5 });
  });

  it('writes nothing for a member who left and joined again since its devices were read', async () => {
    db.on(UpdateCommand).rejectsOnce(refused()).resolves({});
    db.on(GetCommand).resolves({ Item: groupWith({ [ANN]: member(1, [1]), [BEN]: member(3), [CAT]: member(2, [1]) }, 7) });
    await listUnlistedDevices(deps, group, found);
    expect(membersWrites()).toHaveLength(1);
  });

  it('gives up after three refused writes (the next message tries again)', async () => {
    db.on(UpdateCommand).rejects(refused());
    db.on(GetCommand).resolves({ Item: groupWith(group.members, 9) });
    await listUnlistedDevices(deps, group, found);
    expect(membersWrites()).toHaveLength(3);
    expect(db.commandCalls(GetCommand)).toHaveLength(2);
  });

  it('writes nothing when every member found lists ids already', async () => {
    await listUnlistedDevices(deps, group, [{ userId: ANN, deviceId: 1 }]);
    expect(db.commandCalls(UpdateCommand)).toHaveLength(0);
  });
});

describe('listJoinedDevices', () => {
  const devicesOf = (userId: string, ids: number[]) =>
    db.on(BatchGetCommand).resolves({ Responses: { 'parley-devices': ids.map((deviceId) => ({ userId, deviceId })) } });
  const deviceWrites = () =>
    db.commandCalls(UpdateCommand).map(({ args: [{ input }] }) => input.ExpressionAttributeValues![':devices'] ?? input.ExpressionAttributeValues![':device']);

  it('starts an entry the change wrote without ids with every device the user has', async () => {
    devicesOf(BEN, [1, 2]);
    db.on(UpdateCommand).resolves({});
    await listJoinedDevices(deps, groupWith({ [ANN]: member(1, [1]), [BEN]: member(2) }), [BEN]);
    expect(deviceWrites()).toEqual([[1, 2]]);
  });

  it('appends each id when a message’s fan-out started that entry first, from a read before the joining was in the chat list', async () => {
    devicesOf(BEN, [1, 2]);
    db.on(UpdateCommand).rejectsOnce(refused()).resolves({});
    await listJoinedDevices(deps, groupWith({ [ANN]: member(1, [1]), [BEN]: member(2) }), [BEN]);
    expect(deviceWrites()).toEqual([[1, 2], [1], [2]]);
  });

  it('appends only the ids an entry lacks, and writes nothing when it lacks none', async () => {
    devicesOf(BEN, [1, 2]);
    db.on(UpdateCommand).resolves({});
    await listJoinedDevices(deps, groupWith({ [ANN]: member(1, [1]), [BEN]: member(2, [1]) }), [BEN]);
    expect(deviceWrites()).toEqual([[2]]);
    db.resetHistory();
    await listJoinedDevices(deps, groupWith({ [ANN]: member(1, [1]), [BEN]: member(2, [1, 2]) }), [BEN]);
    expect(deviceWrites()).toEqual([]);
  });
});
