/**
 * Delivering to a group: up to 1,024 members with up to 5 devices each, so the reads and writes run with
 * bounded concurrency rather than all at once.
 */
import type { GroupUpdateFrame } from '../protocol/frames';
import type { GroupChangeRecord } from '../protocol/stream-records';
import type { Deps } from '../runtime/deps';
import { mapConcurrently } from '../runtime/concurrency';
import { recordActivity } from '../tables/conversations';
import { listDevices, type DeviceRecord } from '../tables/devices';
import { positionOf } from '../tables/device-queues';
import { queueAndPush } from './delivery';

/** DynamoDB and `@connections` requests one fanout invocation keeps in flight for one group. */
export const GROUP_FANOUT_CONCURRENCY = 32;

export async function devicesOfUsers(deps: Deps, userIds: readonly string[]): Promise<DeviceRecord[]> {
  return (await mapConcurrently(userIds, GROUP_FANOUT_CONCURRENCY, (userId) => listDevices(deps, userId))).flat();
}

/** A membership change reaches every device of the members, and of the users it removed. */
export async function deliverGroupChange(deps: Deps, record: GroupChangeRecord): Promise<void> {
  const frame: GroupUpdateFrame = {
    type: 'GROUP_UPDATE',
    changeId: record.changeId,
    groupId: record.groupId,
    conversationId: record.conversationId,
    version: record.version,
    name: record.name,
    ...record.change,
    serverTs: record.serverTs,
    cursor: positionOf(record.serverTs, record.changeId),
  };
  const users = [...new Set([...record.members, ...record.change.removed])];
  const devices = await devicesOfUsers(deps, users);
  await mapConcurrently(devices, GROUP_FANOUT_CONCURRENCY, (device) =>
    queueAndPush(deps, device.userId, device.deviceId, record.changeId, frame),
  );
  // The group shows in each one's chat list, after the queues, as a message does.
  const activity = { msgId: record.changeId, serverTs: record.serverTs, received: false };
  await mapConcurrently(users, GROUP_FANOUT_CONCURRENCY, (userId) => recordActivity(deps, userId, record.conversationId, activity));
}
