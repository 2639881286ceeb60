/**
 * Delivering to a group: up to 1,024 members with up to 5 devices each. A message is stored once, in the
 * group's timeline, and pushed to the live devices; offline devices read it at SYNC after their cursor
 * (`lambdas/sync/group-sync.ts`). Changes of membership, rare and small, are queued per device like
 * receipts. Devices are read by key, in batches, as the group's member entries list them (a member whose
 * entry lists none by a query, after which its ids are written); routes, in batches, only of the devices
 * whose record shows a connection;
 * posts run with bounded concurrency.
 */
import { PRIMARY_DEVICE_ID } from '../accounts/constants';
import type { GroupUpdateFrame, PushFrame } from '../protocol/frames';
import type { GroupChangeRecord, GroupMessageRecord } from '../protocol/stream-records';
import { mayBeDueWakeUp, wakeDevice } from '../push/wake-device';
import { queueAndPushToAll } from './queue-and-push';
import { mapConcurrently } from '../runtime/concurrency';
import type { Deps } from '../runtime/deps';
import { markJoined, markLeft, recordActivity } from '../tables/conversations';
import { appendToTimeline, latestEntry, nextPosition } from '../tables/group-timeline';
import { isAddressable, mayHoldConnection } from '../tables/devices';
import { devicesOfMembers } from './member-devices';
import { listJoinedDevices, listUnlistedDevices } from '../groups/member-devices';
import { positionOf, waitingExpiry } from '../tables/device-queues';
import { getTally, openTally } from '../tables/group-receipts';
import { advanceMemberDelivery, forgetMember } from '../tables/group-delivery';
import { checkWatermark, memberMovedOn } from './group-receipts';
import { sendToDevices } from '../connect/sessions';
import { countDeliveries } from './delivery-metrics';
import { getGroupMembers } from '../tables/groups';

/**
 * Users a GROUP_UPDATE lists per kind of change. A thousand-member group's creation would otherwise put
 * 38 KB into every member device's queue; past this the frame says it is not `complete`, and the client
 * reads the group instead.
 */
export const MAX_LISTED_USERS = 64;

/** Single DynamoDB and SNS requests one fan-out keeps in flight (chat lists, wake-ups). */
const CONCURRENT_REQUESTS = 32;

/**
 * Every member device but the sending one gets the one Sender-Key ciphertext: stored once, in the
 * group's timeline, then pushed to the live devices; the others read it at SYNC, and are woken.
 */
export async function deliverGroupMessage(deps: Deps, record: GroupMessageRecord): Promise<void> {
  const group = await getGroupMembers(deps, record.groupId);
  if (!group) return;
  // Members the group has now, who were members when the message was accepted.
  const recipients = Object.entries(group.members)
    .filter(([, member]) => member.joinedVersion <= record.groupVersion)
    .map(([userId]) => userId);
  const { from } = record;
  // The ticks are counted from the first DELIVERED on, so the tally opens before anything is stored. It
  // also keeps the message's timeline position: a redelivered record is appended where it was the first
  // time, and a REVOKE finds it there. An action on the chat (a reaction, an edit, a delete, a timer) has
  // a tally for its position alone: no ticks.
  const latest = await latestEntry(deps, record.conversationId, true);
  const position = nextPosition(latest, record.serverTs, record.msgId);
  const opened = await openTally(deps, {
    msgId: record.msgId,
    groupId: record.groupId,
    sender: from.userId,
    position,
    recipients: recipients.filter((userId) => userId !== from.userId).length,
    expiresAt: waitingExpiry(record.serverTs),
    ...(record.control ? { control: true as const } : {}),
  });
  const cursor = opened ? position : ((await getTally(deps, record.msgId))?.position ?? position);
  const frame: PushFrame = {
    type: 'PUSH',
    msgId: record.msgId,
    conversationId: record.conversationId,
    from,
    seq: record.seq,
    serverTs: record.serverTs,
    envelope: { type: 'senderKey', ciphertext: record.ciphertext },
    cursor,
  };
  // Stored first, once for every member device, and with it every member's chat list (last activity,
  // unread count; an action is neither): a message is never pushed or listed before it is stored. A
  // disappearing group's message is handed out at SYNC only until its timer runs out.
  const appended = appendToTimeline(deps, {
    conversationId: record.conversationId,
    position: cursor,
    msgId: record.msgId,
    from: from.userId,
    serverTs: record.serverTs,
    expiresAt: waitingExpiry(record.serverTs, record.expiresInSeconds),
    groupVersion: record.groupVersion,
    frame,
    ...(record.control ? { control: true as const } : {}),
  });
  // The devices are read once the message is stored: a device whose record does not show it connected
  // yet connects after that, so its SYNC finds the message in the timeline.
  await appended;
  // A device without keys has no session to get the Sender Key over: it could not read the message.
  const memberDevices = await devicesOfMembers(deps, group, recipients);
  const devices = memberDevices.filter((device) => isAddressable(device) && !(device.userId === from.userId && device.deviceId === from.deviceId));
  // Routes only of the devices whose record shows a connection (most of a large group's are offline).
  const now = deps.now();
  const mayBeLive = devices.filter((device) => mayHoldConnection(device, now));
  const offline = [...devices.filter((device) => !mayHoldConnection(device, now)), ...(await sendToDevices(deps, mayBeLive, () => frame))];
  countDeliveries(deps, frame, devices.length - offline.length, offline.length);
  // Members whose entry lists no ids were queried: their ids are written (once pushed: no live device
  // waits for it), so the next message reads them by key.
  await listUnlistedDevices(deps, group, memberDevices);
  // Only devices whose record, read above, says a wake-up may be due: a claim is a write, held or not.
  const toWake = offline.filter((device) => mayBeDueWakeUp(device, now) && device.userId !== from.userId);
  await mapConcurrently(toWake, CONCURRENT_REQUESTS, (device) => wakeDevice(deps, device.userId, device.deviceId));
  // The sender has its own message: its position moves to it when it had every message before (else its
  // next acknowledgement moves it), so the sender never holds back its own "delivered to everyone" tick.
  const before = latest && latest.msgId !== record.msgId ? latest.position : '';
  const move = await advanceMemberDelivery(deps, record.conversationId, from.userId, cursor, { ifHad: before });
  if (move) await memberMovedOn(deps, record.conversationId, move, from);
  await checkWatermark(deps, record.conversationId, from);
}

/** A membership change reaches every device of the members, and of the users it removed. */
export async function deliverGroupChange(deps: Deps, record: GroupChangeRecord): Promise<void> {
  const { by, added, removed, madeAdmin } = record.change;
  const complete = [added, removed, madeAdmin].every((users) => users.length <= MAX_LISTED_USERS);
  const frame: GroupUpdateFrame = {
    type: 'GROUP_UPDATE',
    changeId: record.changeId,
    groupId: record.groupId,
    conversationId: record.conversationId,
    version: record.version,
    name: record.name,
    by,
    added: added.slice(0, MAX_LISTED_USERS),
    removed: removed.slice(0, MAX_LISTED_USERS),
    madeAdmin: madeAdmin.slice(0, MAX_LISTED_USERS),
    complete,
    serverTs: record.serverTs,
    cursor: positionOf(record.serverTs, record.changeId),
  };
  const users = [...new Set([...record.members, ...record.change.removed])];
  const group = await getGroupMembers(deps, record.groupId);
  // Listed ids only of members who joined before this change: the fan-out of their joining completed them.
  const devices = await devicesOfMembers(deps, group, users, (member) => member.joinedVersion < record.version);
  if (group) await listUnlistedDevices(deps, group, devices);
  await queueAndPushToAll(deps, devices, frame);
  // Each member's window on the group's timeline: it opens at the change that added the user and closes
  // at the one that removed it (SYNC reads nothing outside it).
  const change = { msgId: record.changeId, serverTs: record.serverTs, position: frame.cursor, version: record.version };
  const joined = new Set(record.change.added);
  const left = new Set(record.change.removed);
  await mapConcurrently(users, CONCURRENT_REQUESTS, (userId) =>
    joined.has(userId)
      ? Promise.all([markJoined(deps, userId, record.conversationId, change), advanceMemberDelivery(deps, record.conversationId, userId, change.position, { joining: true })]).then(() => undefined)
      : left.has(userId)
        ? markLeft(deps, userId, record.conversationId, change)
        : recordActivity(deps, userId, record.conversationId, { msgId: change.msgId, serverTs: change.serverTs, received: false }),
  );
  // Their joining now in their chat lists, a device linked meanwhile is found by its link or here.
  if (group) await listJoinedDevices(deps, group, record.change.added);
  // A member who left no longer holds back the group's "delivered to everyone" ticks; a tick its leaving
  // completes names who removed it (its primary device: a change is made by a user, not a device).
  for (const userId of left) {
    await memberMovedOn(deps, record.conversationId, await forgetMember(deps, record.conversationId, userId), { userId: by, deviceId: PRIMARY_DEVICE_ID });
  }
}
