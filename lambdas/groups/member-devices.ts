/**
 * Keeping each member entry's device ids whole, so that a group's fan-out reads its members' devices by
 * key and misses none. A device id enters a group's entry for its user on one of two paths, and a device
 * linked while its user joins is listed by at least one of them:
 * - its link (`listDeviceInGroups`): after the device is stored, every group the user's chat list shows it joined;
 * - the fan-out of the change that added the user (`listJoinedDevices`): after the joining is in the
 *   user's chat list, every device the user has then.
 * Each reads consistently what the other wrote first: a link whose chat-list read missed the joining
 * stored its device before that joining was recorded, so the fan-out's device read, after it, finds it.
 * Removal and re-registration add no id (the primary device keeps id 1): an id left behind costs a key read.
 *
 * An entry with no ids (written before they were kept, or by a change whose read missed the user) gets
 * them whole, once, from a consistent read of every device the user has, on one of two paths:
 * - the fan-out that queried its devices (`listUnlistedDevices`), for all such members in one write, only
 *   if nobody wrote the group since the fan-out read it;
 * - a link of one of the user's devices (`listDeviceInGroups`), only while the entry still lists none,
 *   else it appends as usual.
 * Whichever writes first, the other's write is refused or appends: a device stored before the fan-out's
 * read is in its list, one stored after is appended by its link (the list exists by then) or listed by
 * the link's own read (the list did not). A link that found no joining in the chat list (a message's
 * fan-out may run before its group change's) writes nothing: the fan-out of the joining, after it, then
 * starts or completes the entry from its own consistent read.
 */
import type { Deps } from '../runtime/deps';
import { mapConcurrently } from '../runtime/concurrency';
import { GROUP_CONVERSATION_PREFIX, groupIdOfConversation } from '../send/conversations';
import { conversationsStartingWith } from '../tables/conversations';
import { deviceIdsOfUser, deviceIdsOfUsers, type DeviceRecord } from '../tables/devices';
import { addMemberDevice, getGroupMembers, listMembersDevices, startMemberDevices, type GroupMembers } from '../tables/groups';

/** Group writes one link or change keeps in flight. */
const CONCURRENT_WRITES = 8;

/** Writes of one fan-out's ids for members without any, each refused when the group was written since it was read. */
const BACKFILL_ATTEMPTS = 3;

/**
 * The device was just stored: every group the user is in lists its id before the device learns it (so a
 * device that can connect is listed). One write of each group item (~1 WRU per KB), none of a group the
 * user left; a user joining a group right now is covered by the fan-out of its joining. An entry that
 * lists no ids gets all of the user's devices, read consistently once for the link (three writes when
 * a fan-out listed them between the append and the start: each refused write is billed like one done).
 */
export async function listDeviceInGroups(deps: Deps, userId: string, deviceId: number): Promise<void> {
  const groups = (await conversationsStartingWith(deps, userId, GROUP_CONVERSATION_PREFIX, true)).filter((row) => row.leftPosition === undefined);
  let userDevices: Promise<number[]> | undefined;
  const allDeviceIds = () => (userDevices ??= deviceIdsOfUser(deps, userId));
  await mapConcurrently(groups, CONCURRENT_WRITES, async (row) => {
    const groupId = groupIdOfConversation(row.conversationId)!;
    if (await addMemberDevice(deps, groupId, userId, deviceId)) return;
    // Listed already, not a member, or an entry without ids: start one with every device, unless a
    // concurrent write started it first, then append to that.
    if (!(await startMemberDevices(deps, groupId, userId, await allDeviceIds()))) await addMemberDevice(deps, groupId, userId, deviceId);
  });
}

/**
 * The fan-out read `devices` (consistently, for members whose entry in `group` lists no ids): those
 * members' entries list them now, all in one write if nobody wrote the group since; else the group is
 * read again and the members still without ids are written, a few times at most (the next message tries
 * again). A member with no device found is left unlisted (queried), as is one who left or joined again.
 */
export async function listUnlistedDevices(deps: Deps, group: GroupMembers, devices: readonly Pick<DeviceRecord, 'userId' | 'deviceId'>[]): Promise<void> {
  const found = new Map<string, number[]>();
  for (const { userId, deviceId } of devices) {
    if (group.members[userId] && !group.members[userId]!.devices) found.set(userId, [...(found.get(userId) ?? []), deviceId]);
  }
  let current: GroupMembers | undefined = group;
  for (let attempt = 1; current && found.size > 0; attempt++) {
    const read = current;
    // Still the entry whose devices were read (the same joining), and still without ids.
    const lists = new Map(
      [...found]
        .filter(([userId]) => read.members[userId]?.joinedVersion === group.members[userId]!.joinedVersion && !read.members[userId]!.devices)
        .map(([userId, ids]) => [userId, [...new Set(ids)].sort((a, b) => a - b)]),
    );
    if (lists.size === 0 || (await listMembersDevices(deps, read, lists)) || attempt === BACKFILL_ATTEMPTS) return;
    current = await getGroupMembers(deps, group.groupId);
  }
}

/**
 * The users' joining of `group` is in their chat lists (`markJoined`): their entries list every device
 * they have now, so one linked after the change read their ids, whose link found no joining yet, is added.
 * Usually nothing is missing and nothing is written; `group` may be read before the joining (its ids only
 * grow). An entry `group` shows without ids (the change's read missed the user) is started with them; if
 * a message's fan-out listed it meanwhile, from a read before this joining was in the chat list (so a
 * link then wrote nothing), each id is appended that it lacks.
 */
export async function listJoinedDevices(deps: Deps, group: GroupMembers, userIds: readonly string[]): Promise<void> {
  if (userIds.length === 0) return;
  const current = await deviceIdsOfUsers(deps, userIds, true);
  const missing = userIds.flatMap((userId) => {
    const entry = group.members[userId];
    const deviceIds = current.get(userId) ?? [];
    // Not a member any more, or no device: nothing to keep.
    if (!entry || deviceIds.length === 0) return [];
    const listed = entry.devices;
    if (!listed) return [{ userId, deviceIds, unlisted: true }];
    const unlistedIds = deviceIds.filter((deviceId) => !listed.includes(deviceId));
    return unlistedIds.length ? [{ userId, deviceIds: unlistedIds, unlisted: false }] : [];
  });
  await mapConcurrently(missing, CONCURRENT_WRITES, async ({ userId, deviceIds, unlisted }) => {
    if (unlisted && (await startMemberDevices(deps, group.groupId, userId, deviceIds))) return;
    for (const deviceId of deviceIds) await addMemberDevice(deps, group.groupId, userId, deviceId);
  });
}
