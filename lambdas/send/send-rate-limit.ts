/**
 * How fast a device may send, in Signal-Server's shape: every SEND and GROUP_SEND takes a token of the
 * sending device's bucket (the `rateLimits` table), and a SEND one more of the bucket of its sending
 * device → recipient user pair. A 1:1 conversation has exactly those two users, so the pair's bucket lives
 * on the conversation's clock item and is spent by the same write that stamps the message: one write
 * less per SEND than a bucket item of its own. Checked before anything is stamped; a refused message
 * spends no tokens (the device's token is given back when the pair refuses) and stores nothing.
 */
import * as z from '../protocol/zod';
import { rateLimited } from '../protocol/errors';
import { env } from '../resources';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { getAccepted, senderOf } from '../tables/accepted-messages';
import { nextServerTs, nextServerTsSpending, type ClockBucketCharge } from '../tables/conversation-clocks';
import { refundTokens, spendTokens } from '../tables/rate-limits';
import { isAcceptanceOf, type Sent } from './stream-once';

const TokenBucketRule = z.strictObject({ burst: z.number().check(z.int(), z.positive()), refillMs: z.number().check(z.int(), z.positive()) });

/** The deployment's SEND limits: the JSON of `SEND_RATE_LIMITS`, when it overrides {@link DEFAULT_SEND_RATE_LIMITS}. */
export const SendRateLimits = z.strictObject({ perDevice: TokenBucketRule, perRecipient: TokenBucketRule });
export type SendRateLimits = z.infer<typeof SendRateLimits>;

export const DEFAULT_SEND_RATE_LIMITS: SendRateLimits = {
  /** 300 at once, then 5 a second: no person typing comes near; a script is slowed to 18,000 an hour. */
  perDevice: { burst: 300, refillMs: 200 },
  /** Per recipient user: 60 at once, then one a second, as Signal-Server's. */
  perRecipient: { burst: 60, refillMs: 1_000 },
};

function sendRateLimitsOf(deps: Deps): SendRateLimits {
  const configured = deps.env[env.sendRateLimits];
  return configured ? SendRateLimits.parse(JSON.parse(configured)) : DEFAULT_SEND_RATE_LIMITS;
}

/**
 * A message refused by a limit is let through when this device had it accepted already: it may be
 * retrying because the first ACK was lost, and it is answered without being delivered again.
 */
async function isAcceptedRetry(deps: Deps, caller: Caller, frame: Sent): Promise<boolean> {
  const accepted = await getAccepted(deps, frame.msgId);
  return accepted !== undefined && isAcceptanceOf(accepted, caller, frame);
}

const deviceBucketOf = (caller: Caller) => `send:${senderOf(caller)}`;

/** Spends the device's token of a SEND or GROUP_SEND, or throws RATE_LIMITED with `retryAfterSeconds` (never for a retry). */
export async function chargeSend(deps: Deps, caller: Caller, frame: Sent): Promise<void> {
  const spend = await spendTokens(deps, deviceBucketOf(caller), 1, sendRateLimitsOf(deps).perDevice);
  if (spend.allowed || (await isAcceptedRetry(deps, caller, frame))) return;
  throw rateLimited('Too many messages from this device; nothing was sent', spend.retryAfterMs);
}

/**
 * Stamps a SEND (whose device's token {@link chargeSend} took) with its conversation's clock, spending the
 * token of its device → recipient pair in the same write; when the pair has none, gives the device's token
 * back and throws RATE_LIMITED, unless the message is a retry of one accepted before.
 */
export async function stampSend(deps: Deps, caller: Caller, frame: Sent): Promise<number> {
  const limits = sendRateLimitsOf(deps);
  // The recipient is the conversation's other member: the pair's bucket is the sending device's on it.
  const pair: ClockBucketCharge = { bucket: `sendTo:${senderOf(caller)}`, cost: 1, rule: limits.perRecipient };
  const stamped = await nextServerTsSpending(deps, frame.conversationId, pair);
  if (stamped.allowed) return stamped.serverTs;
  await refundTokens(deps, deviceBucketOf(caller), 1, limits.perDevice);
  if (await isAcceptedRetry(deps, caller, frame)) return nextServerTs(deps, frame.conversationId);
  throw rateLimited('Too many messages from this device to this recipient; nothing was sent', stamped.retryAfterMs);
}
