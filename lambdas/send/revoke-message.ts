/**
 * Delete for everyone, the server's part: drop the copies of a 1:1 message still waiting in queues, so an
 * offline device never downloads it. The queue key is `(device, ${serverTs}#${msgId})` and `acceptedMessages`
 * knows the message's serverTs, sender and conversation, so each copy is deleted by its key on each device
 * of the two members: no index, no scan. Devices that have the message already learn of the revoke from
 * the encrypted delete the sender's client sends next; the server cannot read that one.
 *
 * A REVOKE that overtakes its message's fan-out (the record still on the stream, a second or less after
 * the ACK) finds nothing to drop; the encrypted delete, which follows the message on the stream, removes
 * it on the devices.
 */
import { ParleyError } from '../protocol/errors';
import { REVOKE_WINDOW_MS, type RevokeAckFrame, type RevokeFrame } from '../protocol/frames';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { getAccepted } from '../tables/accepted-messages';
import { forgetRevoked } from '../tables/conversations';
import { positionOf, queueOf, takeQueued } from '../tables/device-queues';
import { listDevices } from '../tables/devices';
import { groupIdOfConversation, peerOf } from './conversations';

export async function revokeMessage(deps: Deps, caller: Caller, frame: RevokeFrame): Promise<RevokeAckFrame> {
  const accepted = await getAccepted(deps, frame.msgId);
  if (!accepted || accepted.expiresAt <= deps.now() / 1000) throw new ParleyError('NOT_FOUND', 'No message with this msgId');
  const [senderUserId, senderDeviceId] = accepted.sender.split('.');
  // The same answer as for an unknown msgId: a REVOKE must not tell whether someone else's msgId exists.
  if (senderUserId !== caller.userId) throw new ParleyError('NOT_FOUND', 'No message with this msgId');
  if (groupIdOfConversation(accepted.conversationId) !== undefined) {
    throw new ParleyError('NOT_REVOCABLE', 'Group messages are deleted for everyone by the encrypted delete alone');
  }
  if (deps.now() - accepted.serverTs > REVOKE_WINDOW_MS) {
    throw new ParleyError('REVOKE_WINDOW_PASSED', 'A message can be deleted for everyone for 48 hours after it was sent');
  }
  const peer = peerOf(caller, accepted.conversationId);
  const devices = (await Promise.all([listDevices(deps, peer), peer === caller.userId ? [] : listDevices(deps, caller.userId)])).flat();
  const position = positionOf(accepted.serverTs, accepted.msgId);
  const copies = devices.filter((device) => !(device.userId === senderUserId && String(device.deviceId) === senderDeviceId));
  const taken = await Promise.all(copies.map((device) => takeQueued(deps, queueOf(device.userId, device.deviceId), position)));
  await Promise.all([
    forgetRevoked(deps, caller.userId, accepted.conversationId, accepted.msgId, false),
    ...(peer === caller.userId ? [] : [forgetRevoked(deps, peer, accepted.conversationId, accepted.msgId, true)]),
  ]);
  return { type: 'REVOKE_ACK', msgId: frame.msgId, dropped: taken.filter((item) => item !== undefined).length };
}
