/**
 * Finding a group's member devices for a fan-out: by key, in batches of 100, the devices a member's entry
 * lists (about 13 requests for a thousand members' 1,224 devices, where one query per member made 1,024);
 * by one query per user, as before the entries kept ids, for the users whose entry lists none (whose
 * ids the fan-out then writes, so a group's first message after the deploy lists them for the next).
 */
import type { Deps } from '../runtime/deps';
import { devicesByKey, devicesOfUsers, type DeliverableDevice } from '../tables/devices';
import type { GroupMembers } from '../tables/groups';

/**
 * Every device of every one of `userIds`, read by key for those `listed` says to (and whose entry lists
 * ids), else queried: a user this change added (its ids may miss a device linked meanwhile), removed (no
 * entry any more) or with an entry from before the ids were kept. Such an entry's devices are queried
 * consistently, so the fan-out may write them as the entry's ids (`listUnlistedDevices`). A listed id
 * whose device is gone costs its key read and is found missing.
 */
export async function devicesOfMembers(
  deps: Deps,
  group: GroupMembers | undefined,
  userIds: readonly string[],
  listed: (member: NonNullable<GroupMembers['members'][string]>) => boolean = () => true,
): Promise<DeliverableDevice[]> {
  const byKey: { userId: string; deviceId: number }[] = [];
  const queried: string[] = [];
  const unlisted: string[] = [];
  for (const userId of new Set(userIds)) {
    const member = group?.members[userId];
    if (member && !member.devices) unlisted.push(userId);
    else if (member?.devices && listed(member)) byKey.push(...[...new Set(member.devices)].map((deviceId) => ({ userId, deviceId })));
    else queried.push(userId);
  }
  const [found, ofQueried, ofUnlisted] = await Promise.all([devicesByKey(deps, byKey), devicesOfUsers(deps, queried), devicesOfUsers(deps, unlisted, true)]);
  return [...found, ...ofQueried, ...ofUnlisted];
}
