/**
 * Accepting a SEND: who may write, to which devices, stamped once by the conversation's clock, on the
 * stream once, before the ACK. Nothing is delivered here; the fanout consumer writes each device's queue from the stream.
 */
import { ParleyError } from '../protocol/errors';
import type { AckFrame, SendFrame } from '../protocol/frames';
import type { MessageRecord, Participant } from '../protocol/stream-records';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { isAddressable, listDevices } from '../tables/devices';
import { directConversationId } from './conversations';
import { streamOnce } from './stream-once';
import { isBlockedBy } from './blocked-sender';
import { admitMessage } from './admission';

const deviceKey = ({ userId, deviceId }: Participant) => `${userId}.${deviceId}`;

/** A device that must get an envelope, and the registration id its envelope must be encrypted for. */
type AddressedDevice = Participant & { readonly registrationId: number };

/**
 * Every device that must get an envelope: all of the recipient's, and the sender's other devices, that
 * are addressable (have uploaded keys). A device without keys yet cannot be written to, so it is left out
 * rather than blocking every SEND to its account.
 */
async function addressedDevices(deps: Deps, caller: Caller, to: string): Promise<AddressedDevice[]> {
  const [recipient, own] = await Promise.all([
    listDevices(deps, to),
    to === caller.userId ? Promise.resolve([]) : listDevices(deps, caller.userId),
  ]);
  const addressable = recipient.filter(isAddressable);
  if (addressable.length === 0) throw new ParleyError('NOT_FOUND', 'The recipient has no account, or no device with keys yet');
  return [...addressable, ...own.filter(isAddressable)]
    .filter((device) => !(device.userId === caller.userId && device.deviceId === caller.deviceId))
    .map(({ userId, deviceId, registrationId }) => ({ userId, deviceId, registrationId }));
}

/**
 * Refuses the whole SEND when its envelopes do not address exactly the devices the server knows, naming
 * the missing and extra ones (MISMATCHED_DEVICES); then when some were encrypted for an earlier holder of
 * a device id, naming those (STALE_DEVICES). Either way the client can fix its sessions and resend.
 */
function checkDevices(expected: AddressedDevice[], envelopes: SendFrame['envelopes']): void {
  const wanted = new Map(expected.map((device) => [deviceKey(device), device]));
  const given = new Set(envelopes.map(deviceKey));
  const missingDevices = expected.filter((device) => !given.has(deviceKey(device))).map(({ userId, deviceId }) => ({ userId, deviceId }));
  const extraDevices = envelopes.filter((e) => !wanted.has(deviceKey(e))).map(({ userId, deviceId }) => ({ userId, deviceId }));
  if (missingDevices.length || extraDevices.length) {
    throw new ParleyError('MISMATCHED_DEVICES', 'The envelopes do not match the devices of the conversation', {
      missingDevices,
      extraDevices,
    });
  }
  const staleDevices = envelopes
    .filter((e) => wanted.get(deviceKey(e))!.registrationId !== e.registrationId)
    .map(({ userId, deviceId }) => ({ userId, deviceId }));
  if (staleDevices.length) {
    throw new ParleyError('STALE_DEVICES', 'Some envelopes were encrypted for an earlier registration of their device', { staleDevices });
  }
}

/**
 * Accepts a SEND that came on `connectionId`: its session, the device's token, the device lists and the
 * block at once ({@link admitMessage}), then its envelopes; only then is it stamped (spending the pair's
 * token) and stored.
 */
export async function acceptMessage(deps: Deps, caller: Caller, frame: SendFrame, connectionId: string): Promise<AckFrame> {
  if (frame.conversationId !== directConversationId(caller.userId, frame.to)) {
    throw new ParleyError('FORBIDDEN', 'The sender may not write to this conversation');
  }
  const reads = Promise.all([addressedDevices(deps, caller, frame.to), isBlockedBy(deps, frame.to, caller.userId)]);
  const { charge, read } = await admitMessage(deps, caller, connectionId, frame, 'direct', reads);
  if (read.status === 'rejected') throw read.reason;
  const [devices, withheld] = read.value;
  checkDevices(devices, frame.envelopes);

  return streamOnce(deps, caller, frame, (serverTs): MessageRecord => ({
    kind: 'message',
    msgId: frame.msgId,
    conversationId: frame.conversationId,
    from: { userId: caller.userId, deviceId: caller.deviceId },
    to: frame.to,
    seq: frame.seq,
    serverTs,
    // A blocked sender is answered as any other (one grey tick) and its message reaches its own devices only.
    envelopes: withheld ? frame.envelopes.filter((envelope) => envelope.userId !== frame.to) : frame.envelopes,
    ...(frame.preview ? { preview: frame.preview } : {}),
    ...(withheld ? { withheld: true as const } : {}),
    ...(frame.expiresInSeconds ? { expiresInSeconds: frame.expiresInSeconds } : {}),
    ...(frame.control ? { control: true as const } : {}),
  }), () => charge.stamp());
}
