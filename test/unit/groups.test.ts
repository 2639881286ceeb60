import { randomUUID } from 'node:crypto';
import { applyChange } from '../../lambdas/groups/membership';
import { ChangeMembersBody, CreateGroupBody, MAX_GROUP_MEMBERS } from '../../lambdas/protocol/groups-api';
import type { GroupRecord } from '../../lambdas/tables/groups';
import { NOW } from '../fixtures/aws-events';
import type { QueueableFrame } from '../../lambdas/tables/device-queues';
import { nextPosition } from '../../lambdas/tables/group-timeline';
import { mergeInOrder, timelineWindows } from '../../lambdas/sync/group-sync';

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

describe('group timeline order', () => {
  const pos = (ts: number, msgId: string) => `${String(ts).padStart(13, '0')}#${msgId}`;
  const push = (cursor: string) => ({ cursor }) as unknown as QueueableFrame;

  it('puts a message after the group’s latest even when its stamp is older, so positions only grow', () => {
    const [a, b] = [randomUUID(), randomUUID()];
    expect(nextPosition(undefined, NOW, a)).toBe(pos(NOW, a));
    expect(nextPosition({ position: pos(NOW + 5, b) }, NOW, a)).toBe(pos(NOW + 6, a));
    expect(nextPosition({ position: pos(NOW - 5, b) }, NOW, a)).toBe(pos(NOW, a));
  });

  it('merges a queue and timelines in position order, up to the first place a source may hold more', () => {
    const merged = mergeInOrder([
      { frames: [push('a1'), push('a5')], next: 'a5' },
      { frames: [push('a2'), push('a3'), push('a9')] },
      { frames: [push('a4')] },
    ]);
    // a9 may come after frames of the first source not read yet: it waits for the next page.
    expect(merged).toEqual({ frames: ['a1', 'a2', 'a3', 'a4', 'a5'].map(push), next: 'a5' });
    expect(mergeInOrder([{ frames: [push('a2')] }, { frames: [push('a1')] }])).toEqual({ frames: [push('a1'), push('a2')] });
  });

  it('reads a member device’s window from the latest of its cursor, its joining and its link, to its leaving', () => {
    const row = (extra: object) => ({ userId: 'u', conversationId: 'group:g', lastActivityAt: 1, lastMsgId: 'm', ...extra });
    const linked = pos(NOW, '');
    const [windowA, windowB] = timelineWindows(
      [row({ joinedPosition: pos(NOW - 10, 'j') }), { ...row({ joinedPosition: pos(NOW + 10, 'j'), leftPosition: pos(NOW + 20, 'l') }), conversationId: 'group:h' }],
      new Map([['group:h', pos(NOW + 15, 'c')]]),
      { createdAt: NOW },
      undefined,
    );
    expect(windowA).toEqual({ conversationId: 'group:g', after: linked });
    expect(windowB).toEqual({ conversationId: 'group:h', after: pos(NOW + 15, 'c'), upTo: pos(NOW + 20, 'l') });
    // Past its leaving, nothing is read.
    expect(timelineWindows([row({ leftPosition: pos(NOW - 1, 'l') })], new Map(), { createdAt: NOW }, undefined)).toEqual([]);
  });
});
