/**
 * What decides whether a SEND or GROUP_SEND goes, in one round trip: that its connection is the device's
 * current one, the device's token ({@link SendCharge}), and the reads its own checks need (a SEND's device
 * lists and block, a GROUP_SEND's group). Nothing is stored, stamped or spent of the pair's budget until
 * they have all answered and every check has passed.
 */
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { ensureCurrentSession } from '../connect/sessions';
import { SendCharge } from './send-rate-limit';
import type { Sent } from './stream-once';

export interface Admission<R> {
  readonly charge: SendCharge;
  /** What the frame's own reads answered, or why they failed: the caller refuses on it. */
  readonly read: PromiseSettledResult<R>;
}

/**
 * Checks the session, spends the device's token and runs `reads`, at once. A frame on a replaced
 * connection gets its token back and throws `ConnectionReplaced` (the connection is closed); a device out
 * of tokens throws RATE_LIMITED next (unless the frame retries an accepted message).
 *
 * @example
 * const { charge, read } = await admitMessage(deps, caller, connectionId, frame, 'group', getMembership(deps, groupId, caller.userId));
 */
export async function admitMessage<R>(
  deps: Deps,
  caller: Caller,
  connectionId: string,
  frame: Sent,
  kind: 'direct' | 'group',
  reads: Promise<R>,
): Promise<Admission<R>> {
  const [session, spent, read] = await Promise.allSettled([
    ensureCurrentSession(deps, caller, connectionId),
    SendCharge.spend(deps, caller, frame, kind),
    reads,
  ]);
  if (session.status === 'rejected') {
    if (spent.status === 'fulfilled') await spent.value.refund();
    throw session.reason;
  }
  if (spent.status === 'rejected') throw spent.reason;
  await spent.value.admitDevice();
  return { charge: spent.value, read };
}
