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
 */
import type { Deps } from '../runtime/deps';
import { mapConcurrently } from '../runtime/concurrency';
import { GROUP_CONVERSATION_PREFIX, groupIdOfConversation } from '../send/conversations';
import { conversationsStartingWith } from '../tables/conversations';
import { deviceIdsOfUsers } from '../tables/devices';
import { addMemberDevice, type GroupRecord } from '../tables/groups';

/** Group writes one link or change keeps in flight. */
const CONCURRENT_WRITES = 8;

/**
 * The device was just stored: every group the user is in lists its id before the device learns it (so a
 * device that can connect is listed). One write of each group item (~1 WRU per KB), none of a group the
 * user left; a user joining a group right now is covered by the fan-out of its joining.
 */
export async function listDeviceInGroups(deps: Deps, userId: string, deviceId: number): Promise<void> {
  const groups = (await conversationsStartingWith(deps, userId, GROUP_CONVERSATION_PREFIX, true)).filter((row) => row.leftPosition === undefined);
  await mapConcurrently(groups, CONCURRENT_WRITES, (row) => addMemberDevice(deps, groupIdOfConversation(row.conversationId)!, userId, deviceId));
}

/**
 * The users' joining of `group` is in their chat lists (`markJoined`): their entries list every device
 * they have now, so one linked after the change read their ids, whose link found no joining yet, is added.
 * Usually nothing is missing and nothing is written; `group` may be read before the joining (its ids only grow).
 */
export async function listJoinedDevices(deps: Deps, group: GroupRecord, userIds: readonly string[]): Promise<void> {
  if (userIds.length === 0) return;
  const current = await deviceIdsOfUsers(deps, userIds, true);
  const missing = userIds.flatMap((userId) => {
    const listed = group.members[userId]?.devices;
    // Not a member any more, or an entry without ids (its devices are queried): nothing to keep.
    if (!listed) return [];
    return (current.get(userId) ?? []).filter((deviceId) => !listed.includes(deviceId)).map((deviceId) => ({ userId, deviceId }));
  });
  await mapConcurrently(missing, CONCURRENT_WRITES, ({ userId, deviceId }) => addMemberDevice(deps, group.groupId, userId, deviceId));
}
