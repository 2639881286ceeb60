/**
 * Groups and their members: who may change what, up to 1,024 members, each change made whole and then
 * announced on the message stream in the group's conversation, so every member's devices learn it in
 * order with the group's messages.
 */
import { randomUUID } from 'node:crypto';
import { PRIMARY_DEVICE_ID } from '../accounts/constants';
import { derivedId } from '../protocol/derived-id';
import { ParleyError } from '../protocol/errors';
import { MAX_GROUP_MEMBERS, type ChangeMembersBody, type CreateGroupBody, type GroupSummary, type MyGroup } from '../protocol/groups-api';
import type { GroupChange, GroupChangeRecord } from '../protocol/stream-records';
import type { Deps } from '../runtime/deps';
import { putOnMessageStream } from '../send/message-stream';
import { GROUP_CONVERSATION_PREFIX, groupConversationId, groupIdOfConversation } from '../send/conversations';
import type { Caller } from '../runtime/gateway-events';
import { deviceIdsOfUsers } from '../tables/devices';
import { conversationsStartingWith } from '../tables/conversations';
import { createGroup, getGroup, replaceGroup, withMemberDevices, type GroupMember, type GroupRecord } from '../tables/groups';
import { mapConcurrently } from '../runtime/concurrency';

/** How often a change is tried again when another change of the same group won the race. */
const MAX_ATTEMPTS = 5;


export function summaryOf(group: GroupRecord): GroupSummary {
  return {
    groupId: group.groupId,
    conversationId: groupConversationId(group.groupId),
    name: group.name,
    version: group.version,
    members: Object.entries(group.members).map(([userId, { role, joinedAt }]) => ({ userId, role, joinedAt })),
  };
}

/**
 * The device ids of users about to join (and of `creator`, whose account its credentials proved), for
 * their member entries; refuses users without an account, naming them: a typo must not make a member
 * nobody can be. A device linked after this read is listed by its link, or by the fan-out of the change
 * (`listJoinedDevices`); a user this read missed gets an entry without ids, whose devices are queried.
 */
async function deviceIdsOfJoining(deps: Deps, userIds: readonly string[], creator?: string): Promise<Map<string, number[]>> {
  if (userIds.length === 0 && creator === undefined) return new Map();
  const ids = await deviceIdsOfUsers(deps, creator === undefined ? userIds : [creator, ...userIds]);
  const unknownUsers = userIds.filter((userId) => !ids.get(userId)?.includes(PRIMARY_DEVICE_ID));
  if (unknownUsers.length) throw new ParleyError('NOT_FOUND', 'Some users have no account', { unknownUsers });
  return ids;
}

function requireRoom(memberCount: number): void {
  if (memberCount > MAX_GROUP_MEMBERS) {
    throw new ParleyError('GROUP_FULL', `A group has at most ${MAX_GROUP_MEMBERS} members; this change would make ${memberCount}`);
  }
}

/** Puts the change that made the group's current version on the stream; a repeat has the same changeId. */
async function announce(deps: Deps, group: GroupRecord): Promise<void> {
  const conversationId = groupConversationId(group.groupId);
  const record: GroupChangeRecord = {
    kind: 'groupChange',
    changeId: derivedId(`group-change:${group.groupId}:${group.version}`),
    groupId: group.groupId,
    conversationId,
    version: group.version,
    name: group.name,
    change: group.lastChange,
    members: Object.keys(group.members),
    // The change's own time, not now: a repeated announcement must sit at the same queue position.
    serverTs: group.changedAt,
  };
  await putOnMessageStream(deps, record);
}

/**
 * Creates a group with the caller as its admin. A retry with the same `groupId` answers the group it
 * made, and announces it again (the same change, so no device gets it twice).
 */
export async function createNewGroup(deps: Deps, caller: Caller, body: CreateGroupBody): Promise<GroupSummary> {
  const others = body.members.filter((userId) => userId !== caller.userId);
  requireRoom(others.length + 1);
  const ids = await deviceIdsOfJoining(deps, others, caller.userId);
  const now = deps.now();
  const member = (role: GroupMember['role']): GroupMember => ({ role, joinedAt: now, joinedVersion: 1 });
  const group: GroupRecord = withMemberDevices({
    groupId: body.groupId ?? randomUUID(),
    name: body.name,
    createdBy: caller.userId,
    createdAt: now,
    version: 1,
    members: Object.fromEntries([[caller.userId, member('admin')], ...others.map((userId) => [userId, member('member')])]),
    lastChange: { by: caller.userId, added: [caller.userId, ...others], removed: [], madeAdmin: [caller.userId] },
    changedAt: now,
    revision: 1,
  }, ids);
  if (await createGroup(deps, group)) {
    await announce(deps, group);
    return summaryOf(group);
  }
  const existing = await getGroup(deps, group.groupId);
  if (!existing || existing.createdBy !== caller.userId || existing.version !== 1) {
    throw new ParleyError('BAD_REQUEST', 'groupId: already used; use a fresh UUID per group');
  }
  await announce(deps, existing);
  return summaryOf(existing);
}

/**
 * The group after the caller's change, or `undefined` when it changes nothing. Admins add, remove and
 * make admins; anyone may remove itself. When the last admin leaves, the longest-standing member becomes
 * admin, so a group is never left without one.
 */
export function applyChange(group: GroupRecord, by: string, body: ChangeMembersBody, now: number): GroupRecord | undefined {
  const isAdmin = group.members[by]?.role === 'admin';
  const add = (body.add ?? []).filter((userId) => !group.members[userId]);
  const remove = (body.remove ?? []).filter((userId) => group.members[userId]);
  if ((body.add ?? []).some((userId) => body.remove?.includes(userId))) {
    throw new ParleyError('BAD_REQUEST', 'A user cannot be added and removed in one change');
  }
  if (!isAdmin && (body.add?.length || body.makeAdmin?.length || remove.some((userId) => userId !== by))) {
    throw new ParleyError('FORBIDDEN', 'Only an admin may add members, remove others or make admins');
  }
  const version = group.version + 1;
  const members: Record<string, GroupMember> = { ...group.members };
  for (const userId of remove) delete members[userId];
  for (const userId of add) members[userId] = { role: 'member', joinedAt: now, joinedVersion: version };
  requireRoom(Object.keys(members).length);
  const notMembers = (body.makeAdmin ?? []).filter((userId) => !members[userId]);
  if (notMembers.length) throw new ParleyError('BAD_REQUEST', 'Only members can be made admins', { notMembers });
  const madeAdmin = (body.makeAdmin ?? []).filter((userId) => members[userId]!.role !== 'admin');
  const remaining = Object.entries(members);
  if (remaining.length && !remaining.some(([userId, m]) => m.role === 'admin' || madeAdmin.includes(userId))) {
    const [eldest] = remaining.sort(([, a], [, b]) => a.joinedVersion - b.joinedVersion || a.joinedAt - b.joinedAt)[0]!;
    madeAdmin.push(eldest);
  }
  for (const userId of madeAdmin) members[userId] = { ...members[userId]!, role: 'admin' };
  if (add.length + remove.length + madeAdmin.length === 0) return undefined;
  return { ...group, version, members, lastChange: { by, added: add, removed: remove, madeAdmin } satisfies GroupChange, changedAt: now };
}

/** Changes the group's members as one change, and announces it. */
export async function changeMembers(deps: Deps, caller: Caller, groupId: string, body: ChangeMembersBody): Promise<GroupSummary> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const group = await getGroup(deps, groupId);
    // Whether a group exists is no business of non-members.
    if (!group?.members[caller.userId]) throw new ParleyError('NOT_FOUND', 'No such group among yours');
    const next = applyChange(group, caller.userId, body, deps.now());
    if (!next) {
      // Nothing to change: most likely a retry of the caller's own change, whose announcement may be lost.
      if (group.lastChange.by === caller.userId) await announce(deps, group);
      return summaryOf(group);
    }
    const changed = withMemberDevices(next, await deviceIdsOfJoining(deps, next.lastChange.added));
    if (await replaceGroup(deps, group, changed)) {
      await announce(deps, changed);
      return summaryOf(changed);
    }
  }
  throw new ParleyError('RATE_LIMITED', 'The group is changing too often at once; retry', { retryAfterSeconds: 1 });
}

/** The group, for its members only. */
export async function readGroup(deps: Deps, caller: Caller, groupId: string): Promise<GroupSummary> {
  const group = await getGroup(deps, groupId);
  if (!group?.members[caller.userId]) throw new ParleyError('NOT_FOUND', 'No such group among yours');
  return summaryOf(group);
}

/** The caller's groups, from its chat list, with its role in each. */
export async function listMyGroups(deps: Deps, caller: Caller): Promise<MyGroup[]> {
  const groupIds = (await conversationsStartingWith(deps, caller.userId, GROUP_CONVERSATION_PREFIX)).map((row) => groupIdOfConversation(row.conversationId)!);
  const groups = await mapConcurrently(groupIds, 16, (groupId) => getGroup(deps, groupId));
  return groups.flatMap((group) => {
    const member = group?.members[caller.userId];
    if (!group || !member) return [];
    const { groupId, name, version } = group;
    return [{ groupId, conversationId: groupConversationId(groupId), name, version, role: member.role, memberCount: Object.keys(group.members).length }];
  });
}
