/**
 * Delete for everyone, in the device queues: the copies of a message still waiting are deleted by their
 * key, `(device, ${serverTs}#${msgId})`, on every device that may hold one (no index, no scan). Both the
 * REVOKE route (at once) and the fanout (after the message's own fan-out, from the revoke record) use it.
 */
import { MAX_DEVICES } from '../accounts/constants';
import type { RevokeRecord } from '../protocol/stream-records';
import type { Deps } from '../runtime/deps';
import { deleteQueuedAt, positionOf, queueOf, takeQueued } from '../tables/device-queues';
import { devicesOfUsers, isAddressable, listDevices } from '../tables/devices';
import { getGroup } from '../tables/groups';
import { groupIdOfConversation, peerOf } from './conversations';

/** A message deleted for everyone: what names its copies. */
export type RevokedMessage = Pick<RevokeRecord, 'msgId' | 'conversationId' | 'from' | 'serverTs'>;

const isSendingDevice = (message: RevokedMessage, device: { userId: string; deviceId: number }) =>
  device.userId === message.from.userId && device.deviceId === message.from.deviceId;

/**
 * A 1:1 message's copies on the peer's devices and the sender's other devices (at most 9), deleted one by
 * one so that the answer is exact: how many were still queued.
 */
async function dropDirectCopies(deps: Deps, message: RevokedMessage): Promise<number> {
  const sender = message.from.userId;
  const peer = peerOf({ userId: sender }, message.conversationId);
  const devices = (await Promise.all([listDevices(deps, peer), peer === sender ? [] : listDevices(deps, sender)])).flat();
  const position = positionOf(message.serverTs, message.msgId);
  const copies = devices.filter((device) => !isSendingDevice(message, device));
  const taken = await Promise.all(copies.map((device) => takeQueued(deps, queueOf(device.userId, device.deviceId), position)));
  return taken.filter((item) => item !== undefined).length;
}

/**
 * A group message's copies on every device of the group's current members but the sending one, deleted
 * by key 25 to a request; answers how many device queues it was deleted from (DynamoDB does not say which
 * still held it). One function, so that a group storage of another shape (one timeline per group) is
 * re-pointed here alone. Users removed from the group since the message keep their copy.
 */
async function dropGroupCopies(deps: Deps, groupId: string, message: RevokedMessage): Promise<number> {
  const group = await getGroup(deps, groupId);
  if (!group) return 0;
  const devices = (await devicesOfUsers(deps, Object.keys(group.members), MAX_DEVICES)).filter(
    (device) => isAddressable(device) && !isSendingDevice(message, device),
  );
  await deleteQueuedAt(deps, devices.map((device) => queueOf(device.userId, device.deviceId)), positionOf(message.serverTs, message.msgId));
  return devices.length;
}

/** Deletes the message's queued copies; answers `dropped` as REVOKE_ACK counts it (docs/protocol.md). */
export function dropQueuedCopies(deps: Deps, message: RevokedMessage): Promise<number> {
  const groupId = groupIdOfConversation(message.conversationId);
  return groupId === undefined ? dropDirectCopies(deps, message) : dropGroupCopies(deps, groupId, message);
}
