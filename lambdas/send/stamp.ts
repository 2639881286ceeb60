/**
 * The one server time a message gets: from its conversation's clock (strictly increasing, whichever
 * Lambda's clock is behind) on its first acceptance, the same on every retry.
 */
import { ParleyError } from '../protocol/errors';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { acceptOnce, messageKeyOf } from '../tables/accepted-messages';
import { nextServerTs } from '../tables/conversation-clocks';

/** How long a SEND can be retried and still get its first ACK. */
const RETRY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Answers the message's serverTs: the clock's next on its first acceptance, the first one's on a retry. */
export async function stampOnce(deps: Deps, caller: Caller, frame: { msgId: string; conversationId: string }): Promise<number> {
  // A retry ticks the clock too, and keeps its first stamp: a skipped millisecond harms nothing.
  const serverTs = await nextServerTs(deps, frame.conversationId);
  const accepted = await acceptOnce(deps, {
    messageKey: messageKeyOf(caller.userId, frame.msgId),
    conversationId: frame.conversationId,
    serverTs,
    expiresAt: Math.ceil((serverTs + RETRY_WINDOW_MS) / 1000),
  });
  if (accepted.conversationId !== frame.conversationId) {
    throw new ParleyError('BAD_REQUEST', 'msgId: already used for another conversation; use a fresh UUID per message');
  }
  return accepted.serverTs;
}
