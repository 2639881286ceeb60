/** The `groups` table: one item per group with its name, version and members, and each member's device ids. */
import { GetCommand, PutCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import type { GroupRole } from '../protocol/groups-api';
import type { GroupChange } from '../protocol/stream-records';
import { tableName, type Deps } from '../runtime/deps';
import { ifConditionHolds } from './conditional-write';
import { putIfAbsent } from './put-if-absent';

export interface GroupMember {
  readonly role: GroupRole;
  /** Epoch milliseconds when the user joined. */
  readonly joinedAt: number;
  /** The group's version that added the user: it gets nothing sent to an earlier version. */
  readonly joinedVersion: number;
  /**
   * The ids of the member's devices, so that a fan-out reads exactly their records: every device the user
   * has (a removed device's id may stay: it costs one key read, never a missed device). Unset on entries
   * written before the ids were kept: the fan-out then queries the member's devices.
   */
  readonly devices?: readonly number[];
}

export interface GroupRecord {
  readonly groupId: string;
  readonly name: string;
  readonly createdBy: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** Counts changes from 1; each change writes only if the version it read is still there. */
  readonly version: number;
  readonly members: Readonly<Record<string, GroupMember>>;
  /** What made this version, and when (epoch milliseconds), so that a retry announces the very same change. */
  readonly lastChange: GroupChange;
  readonly changedAt: number;
  /**
   * Counts every write of the item, membership changes and device ids alike (unset on groups from before
   * it was kept): a membership change writes only if it is unchanged since read, so it never writes back
   * a member's device ids without the one a link added meanwhile.
   */
  readonly revision?: number;
}

export async function createGroup(deps: Deps, group: GroupRecord): Promise<boolean> {
  return putIfAbsent(deps, 'groups', { ...group });
}

/**
 * The group item, strongly consistent: whole, or the attributes `projection` names. A projection is billed
 * by the whole item all the same (1 RRU per 4 KB): what it saves is the bytes sent and the CPU that parses them.
 */
async function readGroupItem(deps: Deps, groupId: string, projection?: { expression: string; names: Record<string, string> }): Promise<Record<string, unknown> | undefined> {
  const { Item } = await deps.clients.db.send(
    new GetCommand({
      TableName: tableName(deps, 'groups'),
      Key: { groupId },
      ConsistentRead: true,
      ...(projection ? { ProjectionExpression: projection.expression, ExpressionAttributeNames: projection.names } : {}),
    }),
  );
  return Item;
}

export async function getGroup(deps: Deps, groupId: string): Promise<GroupRecord | undefined> {
  return (await readGroupItem(deps, groupId)) as GroupRecord | undefined;
}

/**
 * What a fan-out and the watermark read of a group: its members and what a write of their device ids
 * checks (`version`, `revision`). Not its name or `lastChange`, which for a group created with a thousand
 * members lists them all again (~37 KB of a 1,024-member group's ~134 KB item).
 */
export type GroupMembers = Pick<GroupRecord, 'groupId' | 'version' | 'revision' | 'members'>;

/** The group's {@link GroupMembers}, strongly consistent. */
export async function getGroupMembers(deps: Deps, groupId: string): Promise<GroupMembers | undefined> {
  return (await readGroupItem(deps, groupId, { expression: 'groupId, #version, revision, members', names: { '#version': 'version' } })) as GroupMembers | undefined;
}

/** A group's version and one user's entry in it, if the user is a member. */
export interface GroupMembership {
  readonly version: number;
  readonly member?: GroupMember;
}

/**
 * The group's version and `userId`'s entry, strongly consistent; none for a group that does not exist.
 * What a member's frame in the group checks (may it write, to which version), read without the other
 * members: a 1,024-member group's item is ~134 KB, one entry ~100 bytes.
 */
export async function getMembership(deps: Deps, groupId: string, userId: string): Promise<GroupMembership | undefined> {
  const item = await readGroupItem(deps, groupId, { expression: '#version, members.#user', names: { '#version': 'version', '#user': userId } });
  if (!item) return undefined;
  const { version, members } = item as Pick<GroupRecord, 'version'> & Partial<Pick<GroupRecord, 'members'>>;
  const member = members?.[userId];
  return { version, ...(member ? { member } : {}) };
}

/**
 * Writes the group's next version if nobody changed it since `previous` was read, neither its members
 * nor a member's device ids (its `revision`): false when someone did, and the caller reads again and retries.
 */
export async function replaceGroup(deps: Deps, previous: GroupRecord, next: GroupRecord): Promise<boolean> {
  const unchanged = unchangedSince(previous);
  const written = await ifConditionHolds(
    deps.clients.db.send(
      new PutCommand({ TableName: tableName(deps, 'groups'), Item: { ...next, revision: (previous.revision ?? 0) + 1 }, ...unchanged }),
    ),
  );
  return written !== undefined;
}

/** The condition that nobody wrote the group item since `previous` was read (a group from before `revision` has none). */
const unchangedSince = (previous: Pick<GroupRecord, 'version' | 'revision'>) =>
  previous.revision === undefined
    ? { ConditionExpression: 'version = :previous AND attribute_not_exists(revision)', ExpressionAttributeValues: { ':previous': previous.version } }
    : { ConditionExpression: 'version = :previous AND revision = :revision', ExpressionAttributeValues: { ':previous': previous.version, ':revision': previous.revision } };

type GroupUpdate = Omit<UpdateCommandInput, 'TableName' | 'Key'>;

/** A conditional update of the group item: true when written, false when its condition failed. */
async function updateGroupIf(deps: Deps, groupId: string, update: GroupUpdate): Promise<boolean> {
  const written = await ifConditionHolds(deps.clients.db.send(new UpdateCommand({ TableName: tableName(deps, 'groups'), Key: { groupId }, ...update })));
  return written !== undefined;
}

/** The group with the device ids `lists` gives for the members it names; the other entries as they are. */
export const withMemberDevices = <G extends GroupMembers>(group: G, lists: ReadonlyMap<string, readonly number[]>): G => ({
  ...group,
  members: Object.fromEntries(
    Object.entries(group.members).map(([userId, member]) => [userId, lists.has(userId) ? { ...member, devices: lists.get(userId)! } : member]),
  ),
});

/**
 * Gives the members `lists` names their device ids, all in one write of the members map, if nobody wrote
 * the group item since `group` was read (so each entry is still the one read): true when written, false
 * when someone did (nothing is written). One write whatever the number of members, billed by the whole
 * item (~134 WRU for 1,024 members), where one SET per member would outgrow the 4 KB an update expression
 * may hold at about 200 members; the ids are a value, not expression text.
 */
export async function listMembersDevices(deps: Deps, group: GroupMembers, lists: ReadonlyMap<string, readonly number[]>): Promise<boolean> {
  const { members } = withMemberDevices(group, lists);
  const unchanged = unchangedSince(group);
  return updateGroupIf(deps, group.groupId, {
    UpdateExpression: 'SET members = :members, revision = :next',
    ConditionExpression: unchanged.ConditionExpression,
    ExpressionAttributeValues: { ...unchanged.ExpressionAttributeValues, ':members': members, ':next': (group.revision ?? 0) + 1 },
  });
}

/**
 * Starts the device ids of a member whose entry lists none with `deviceIds`, every device the user has
 * (read consistently): true when written; false when the user is not a member, or its entry lists ids
 * already (a concurrent write started them: append to those).
 */
export async function startMemberDevices(deps: Deps, groupId: string, userId: string, deviceIds: readonly number[]): Promise<boolean> {
  return updateGroupIf(deps, groupId, {
    UpdateExpression: 'SET members.#user.devices = :devices, revision = if_not_exists(revision, :none) + :one',
    ConditionExpression: 'attribute_exists(members.#user) AND attribute_not_exists(members.#user.devices)',
    ExpressionAttributeNames: { '#user': userId },
    ExpressionAttributeValues: { ':devices': deviceIds, ':none': 0, ':one': 1 },
  });
}

/**
 * Adds a device id to a member's ids in one conditional write, no read: true when added; false when the
 * user is not a member, its entry keeps no ids (`startMemberDevices` starts them), or the id is listed.
 * Billed as a write of the whole group item (1 WRU per KB: ~131 for 1,024 members), held or not.
 */
export async function addMemberDevice(deps: Deps, groupId: string, userId: string, deviceId: number): Promise<boolean> {
  return updateGroupIf(deps, groupId, {
    UpdateExpression: 'SET members.#user.devices = list_append(members.#user.devices, :device), revision = if_not_exists(revision, :none) + :one',
    ConditionExpression: 'attribute_exists(members.#user.devices) AND NOT contains(members.#user.devices, :deviceId)',
    ExpressionAttributeNames: { '#user': userId },
    ExpressionAttributeValues: { ':device': [deviceId], ':deviceId': deviceId, ':none': 0, ':one': 1 },
  });
}
