/**
 * Delivering to a group: up to 1,024 members with up to 5 devices each. Devices and routes are read in
 * batches, queue items written in batches, and posts run with bounded concurrency, so the last online
 * member has a message after a few dozen DynamoDB calls rather than thousands.
 */
import { MAX_DEVICES } from '../accounts/constants';
import type { GroupUpdateFrame, PushFrame } from '../protocol/frames';
import type { GroupChangeRecord, GroupMessageRecord } from '../protocol/stream-records';
import { wakeDevice } from '../push/wake-device';
import { queueAndPushEach, queueAndPushToAll } from './queue-and-push';
import { mapConcurrently } from '../runtime/concurrency';
import type { Deps } from '../runtime/deps';
import { markJoined, recordActivity } from '../tables/conversations';
import { appendToTimeline } from '../tables/group-timeline';
import { devicesOfUsers, isAddressable } from '../tables/devices';
import { positionOf, QUEUE_TTL_MS } from '../tables/device-queues';
import { openTally } from '../tables/group-receipts';
import { getGroup } from '../tables/groups';

/**
 * Users a GROUP_UPDATE lists per kind of change. A thousand-member group's creation would otherwise put
 * 38 KB into every member device's queue; past this the frame says it is not `complete`, and the client
 * reads the group instead.
 */
export const MAX_LISTED_USERS = 64;

/** Single DynamoDB and SNS requests one fan-out keeps in flight (chat lists, wake-ups). */
const CONCURRENT_REQUESTS = 32;

/** Every member device but the sending one gets the one Sender-Key ciphertext; offline ones are woken. */
export async function deliverGroupMessage(deps: Deps, record: GroupMessageRecord): Promise<void> {
  const group = await getGroup(deps, record.groupId);
  if (!group) return;
  // Members the group has now, who were members when the message was accepted.
  const recipients = Object.entries(group.members)
    .filter(([, member]) => member.joinedVersion <= record.groupVersion)
    .map(([userId]) => userId);
  const { from } = record;
  // A device without keys has no session to get the Sender Key over: it could not read the message.
  const devices = (await devicesOfUsers(deps, recipients, MAX_DEVICES)).filter(
    (device) => isAddressable(device) && !(device.userId === from.userId && device.deviceId === from.deviceId),
  );
  const frame: PushFrame = {
    type: 'PUSH',
    msgId: record.msgId,
    conversationId: record.conversationId,
    from,
    seq: record.seq,
    serverTs: record.serverTs,
    envelope: { type: 'senderKey', ciphertext: record.ciphertext },
    cursor: positionOf(record.serverTs, record.msgId),
  };
  // The ticks are counted from the first DELIVERED on, so the tally opens before anything is queued. An
  // action on the chat (a reaction, an edit, a delete, a timer) gets no ticks.
  if (!record.control) {
    await openTally(deps, {
      msgId: record.msgId,
      groupId: record.groupId,
      sender: from.userId,
      position: frame.cursor,
      recipients: recipients.filter((userId) => userId !== from.userId).length,
      expiresAt: Math.ceil((record.serverTs + QUEUE_TTL_MS) / 1000),
    });
  }
  const offline = await queueAndPushEach(deps, devices.map((device) => ({ ...device, frame })), record.expiresInSeconds);
  const toWake = offline.filter((device) => device.push && device.userId !== from.userId);
  await mapConcurrently(toWake, CONCURRENT_REQUESTS, (device) => wakeDevice(deps, device.userId, device.deviceId));
  // An action is no new activity in the chat: no last activity, no unread, no preview.
  if (record.control) return;
  // The chat lists, after the queues: a message is never listed before it is stored. One timeline write
  // serves every member's chat list (last activity, unread count).
  await appendToTimeline(deps, {
    conversationId: record.conversationId,
    position: frame.cursor,
    msgId: record.msgId,
    from: from.userId,
    serverTs: record.serverTs,
    expiresAt: Math.ceil((record.serverTs + QUEUE_TTL_MS) / 1000),
  });
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
  await queueAndPushToAll(deps, await devicesOfUsers(deps, users, MAX_DEVICES), frame);
  const change = { msgId: record.changeId, serverTs: record.serverTs, position: frame.cursor };
  const joined = new Set(record.change.added);
  await mapConcurrently(users, CONCURRENT_REQUESTS, (userId) =>
    joined.has(userId)
      ? markJoined(deps, userId, record.conversationId, change)
      : recordActivity(deps, userId, record.conversationId, { msgId: change.msgId, serverTs: change.serverTs, received: false }),
  );
}
