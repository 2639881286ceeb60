import { randomUUID } from 'node:crypto';
import { applyChange } from '../../lambdas/groups/membership';
import { ChangeMembersBody, CreateGroupBody, MAX_GROUP_MEMBERS } from '../../lambdas/protocol/groups-api';
import type { GroupRecord } from '../../lambdas/tables/groups';
import { NOW } from '../fixtures/aws-events';

const ADMIN = randomUUID();

function groupOf(memberCount: number): GroupRecord {
  const others = Array.from({ length: memberCount - 1 }, () => randomUUID());
  return {
    groupId: randomUUID(),
    name: 'g',
    createdBy: ADMIN,
    createdAt: NOW,
    version: 1,
    members: Object.fromEntries([
      [ADMIN, { role: 'admin', joinedAt: NOW, joinedVersion: 1 }],
      ...others.map((userId) => [userId, { role: 'member', joinedAt: NOW, joinedVersion: 1 }]),
    ]),
    lastChange: { by: ADMIN, added: [ADMIN, ...others], removed: [], madeAdmin: [ADMIN] },
    changedAt: NOW,
  };
}

const codeOf = (work: () => unknown) => {
  try {
    work();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return 'none';
};

describe('group membership rules', () => {
  it('admits the 1,024th member and refuses the 1,025th, whole', () => {
    const full = applyChange(groupOf(MAX_GROUP_MEMBERS - 1), ADMIN, { add: [randomUUID()] }, NOW)!;
    expect(Object.keys(full.members)).toHaveLength(MAX_GROUP_MEMBERS);
    expect(codeOf(() => applyChange(full, ADMIN, { add: [randomUUID()] }, NOW))).toBe('GROUP_FULL');
    // Two at once past the limit: neither is added.
    expect(codeOf(() => applyChange(groupOf(MAX_GROUP_MEMBERS - 1), ADMIN, { add: [randomUUID(), randomUUID()] }, NOW))).toBe('GROUP_FULL');
  });

  it('counts a removal in the same change before the limit', () => {
    const full = groupOf(MAX_GROUP_MEMBERS);
    const someone = Object.keys(full.members).find((userId) => userId !== ADMIN)!;
    const next = applyChange(full, ADMIN, { add: [randomUUID()], remove: [someone] }, NOW)!;
    expect(Object.keys(next.members)).toHaveLength(MAX_GROUP_MEMBERS);
  });

  it('marks who joined with the version that added them, and counts versions', () => {
    const newcomer = randomUUID();
    const next = applyChange(groupOf(3), ADMIN, { add: [newcomer] }, NOW + 5)!;
    expect(next.version).toBe(2);
    expect(next.members[newcomer]).toEqual({ role: 'member', joinedAt: NOW + 5, joinedVersion: 2 });
    expect(next.lastChange).toEqual({ by: ADMIN, added: [newcomer], removed: [], madeAdmin: [] });
  });

  it('changes nothing when nothing would change (a retry)', () => {
    const group = groupOf(3);
    const member = Object.keys(group.members)[1]!;
    expect(applyChange(group, ADMIN, { add: [member], makeAdmin: [ADMIN] }, NOW)).toBeUndefined();
  });

  it('refuses adding and removing one user in one change, and admin rights for non-members', () => {
    const user = randomUUID();
    expect(codeOf(() => applyChange(groupOf(3), ADMIN, { add: [user], remove: [user] }, NOW))).toBe('BAD_REQUEST');
    expect(codeOf(() => applyChange(groupOf(3), ADMIN, { makeAdmin: [user] }, NOW))).toBe('BAD_REQUEST');
  });

  it('limits request bodies at the edge', () => {
    const ids = (n: number) => Array.from({ length: n }, () => randomUUID());
    expect(CreateGroupBody.safeParse({ name: 'g', members: ids(MAX_GROUP_MEMBERS - 1) }).success).toBe(true);
    expect(CreateGroupBody.safeParse({ name: 'g', members: ids(MAX_GROUP_MEMBERS) }).success).toBe(false);
    expect(CreateGroupBody.safeParse({ name: 'x'.repeat(256), members: [] }).success).toBe(true);
    expect(CreateGroupBody.safeParse({ name: 'x'.repeat(257), members: [] }).success).toBe(false);
    expect(CreateGroupBody.safeParse({ name: ' ', members: [] }).success).toBe(false);
    const twice = randomUUID();
    expect(ChangeMembersBody.safeParse({ add: [twice, twice] }).success).toBe(false);
    expect(ChangeMembersBody.safeParse({ add: [] }).success).toBe(false);
  });
});
