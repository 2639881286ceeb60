/**
 * Blocking on the 1:1 path: whether the recipient blocked the sender, read beside the recipient's device
 * list, so it adds one small strongly consistent read to a SEND and no time (see README, cost).
 */
import type { Deps } from '../runtime/deps';
import { hasBlocked } from '../tables/blocks';

/** A SEND to oneself is never blocked. */
export async function isBlockedBy(deps: Deps, recipient: string, sender: string): Promise<boolean> {
  return recipient !== sender && (await hasBlocked(deps, recipient, sender));
}
