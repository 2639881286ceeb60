/**
 * Delete for everyone, the server's part: drop the copies of a message still waiting in queues, so an
 * offline device never downloads it. `acceptedMessages` knows the message's serverTs, sender and
 * conversation, so each copy is deleted by its queue key (lambdas/send/queued-copies.ts). Devices that have
 * the message already learn of the revoke from the encrypted delete the sender's client sends next; the
 * server cannot read that one.
 *
 * A REVOKE may overtake its message's fan-out (the record still on the stream, a second or less after the
 * ACK), and the message may wait in the failed-deliveries bucket: so the message is marked revoked first
 * (a late or redriven record of it is then delivered to nobody), and a revoke record follows it on the
 * stream, which the fanout handles after the message's own record: it deletes what that wrote and takes
 * the message out of the chat lists.
 */
import { ParleyError } from '../protocol/errors';
import { REVOKE_WINDOW_MS, type RevokeAckFrame, type RevokeFrame } from '../protocol/frames';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { getAccepted, markRevoked } from '../tables/accepted-messages';
import { putOnMessageStream } from './message-stream';
import { dropQueuedCopies } from './queued-copies';

export async function revokeMessage(deps: Deps, caller: Caller, frame: RevokeFrame): Promise<RevokeAckFrame> {
  const accepted = await getAccepted(deps, frame.msgId);
  if (!accepted || accepted.expiresAt <= deps.now() / 1000) throw new ParleyError('NOT_FOUND', 'No message with this msgId');
  const [senderUserId, senderDeviceId] = accepted.sender.split('.');
  // The same answer as for an unknown msgId: a REVOKE must not tell whether someone else's msgId exists.
  if (senderUserId !== caller.userId) throw new ParleyError('NOT_FOUND', 'No message with this msgId');
  if (deps.now() - accepted.serverTs > REVOKE_WINDOW_MS) {
    throw new ParleyError('REVOKE_WINDOW_PASSED', 'A message can be deleted for everyone for 48 hours after it was sent');
  }
  const message = {
    msgId: accepted.msgId,
    conversationId: accepted.conversationId,
    from: { userId: senderUserId, deviceId: Number(senderDeviceId) },
    serverTs: accepted.serverTs,
  };
  await markRevoked(deps, message.msgId);
  const dropped = await dropQueuedCopies(deps, message);
  await putOnMessageStream(deps, { kind: 'revoke', ...message });
  return { type: 'REVOKE_ACK', msgId: frame.msgId, dropped };
}
