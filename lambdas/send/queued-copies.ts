/**
 * Delete for everyone, where a message waits: a 1:1 message's copies are deleted from the device queues by
 * their key, `(device, ${serverTs}#${msgId})` (no index, no scan); a group message is withdrawn from the
 * group's timeline. Both the REVOKE route (at once) and the fanout (after the message's own fan-out, from
 * the revoke record) use it.
 */
import type { RevokeRecord } from '../protocol/stream-records';
import type { Deps } from '../runtime/deps';
import { positionOf, queueOf, takeQueued } from '../tables/device-queues';
import { listDevices } from '../tables/devices';
import { getTally } from '../tables/group-receipts';
import { withdrawFromTimeline } from '../tables/group-timeline';
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
 * A group message is not queued per device: it waits once, in the group's timeline, for every member
 * device whose cursor is behind it. It is withdrawn there (1) unless the fan-out has not appended it yet
 * (its tally, which keeps its position, is opened first) or it was withdrawn before (0); the revoke record
 * that follows the message on the stream withdraws it after a fan-out this overtook.
 */
async function withdrawGroupMessage(deps: Deps, message: RevokedMessage): Promise<number> {
  const position = (await getTally(deps, message.msgId))?.position;
  if (position === undefined) return 0;
  return (await withdrawFromTimeline(deps, message.conversationId, position)) ? 1 : 0;
}

/** Deletes the message's queued copies; answers `dropped` as REVOKE_ACK counts it (docs/protocol.md). */
export function dropQueuedCopies(deps: Deps, message: RevokedMessage): Promise<number> {
  return groupIdOfConversation(message.conversationId) === undefined ? dropDirectCopies(deps, message) : withdrawGroupMessage(deps, message);
}
