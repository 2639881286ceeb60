/**
 * Accepting a SEND: who may write, to which devices, stamped once by the conversation's clock, on the
 * stream once, before the ACK. Nothing is delivered here; the fanout consumer writes each device's queue from the stream.
 */
import { ParleyError } from '../protocol/errors';
import type { AckFrame, SendFrame } from '../protocol/frames';
import type { MessageRecord, Participant } from '../protocol/stream-records';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { listDevices } from '../tables/devices';
import { directConversationId } from './conversations';
import { chargeSend } from './send-rate-limit';
import { streamOnce } from './stream-once';

const deviceKey = ({ userId, deviceId }: Participant) => `${userId}.${deviceId}`;

/** Every device that must get an envelope: all of the recipient's, and the sender's other devices. */
async function addressedDevices(deps: Deps, caller: Caller, to: string): Promise<Participant[]> {
  const [recipient, own] = await Promise.all([
    listDevices(deps, to),
    to === caller.userId ? Promise.resolve([]) : listDevices(deps, caller.userId),
  ]);
  if (recipient.length === 0) throw new ParleyError('NOT_FOUND', 'The recipient has no account');
  return [...recipient, ...own]
    .filter((device) => !(device.userId === caller.userId && device.deviceId === caller.deviceId))
    .map(({ userId, deviceId }) => ({ userId, deviceId }));
}

/**
 * Refuses the whole SEND when its envelopes do not address exactly the devices the server knows, naming
 * the missing and extra ones, so that the client can fix its sessions and resend.
 */
function checkDevices(expected: Participant[], envelopes: SendFrame['envelopes']): void {
  const wanted = new Set(expected.map(deviceKey));
  const given = new Set(envelopes.map(deviceKey));
  const missingDevices = expected.filter((device) => !given.has(deviceKey(device)));
  const extraDevices = envelopes.filter((e) => !wanted.has(deviceKey(e))).map(({ userId, deviceId }) => ({ userId, deviceId }));
  if (missingDevices.length || extraDevices.length) {
    throw new ParleyError('MISMATCHED_DEVICES', 'The envelopes do not match the devices of the conversation', {
      missingDevices,
      extraDevices,
    });
  }
}

export async function acceptMessage(deps: Deps, caller: Caller, frame: SendFrame): Promise<AckFrame> {
  if (frame.conversationId !== directConversationId(caller.userId, frame.to)) {
    throw new ParleyError('FORBIDDEN', 'The sender may not write to this conversation');
  }
  await chargeSend(deps, caller, frame, frame.to);
  checkDevices(await addressedDevices(deps, caller, frame.to), frame.envelopes);

  return streamOnce(deps, caller, frame, (serverTs): MessageRecord => ({
    kind: 'message',
    msgId: frame.msgId,
    conversationId: frame.conversationId,
    from: { userId: caller.userId, deviceId: caller.deviceId },
    to: frame.to,
    seq: frame.seq,
    serverTs,
    envelopes: frame.envelopes,
    ...(frame.preview ? { preview: frame.preview } : {}),
  }));
}
