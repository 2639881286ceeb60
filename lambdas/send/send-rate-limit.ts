/**
 * How fast a device may send, in Signal-Server's shape: every SEND and GROUP_SEND takes a token of the
 * sending device's bucket, and a SEND one more of the bucket of its sending device → recipient user pair.
 * Checked before anything is stamped; a refused message spends no tokens (what one bucket took is given
 * back when the other refuses) and stores nothing.
 */
import * as z from 'zod';
import { rateLimited } from '../protocol/errors';
import { env } from '../resources';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { getAccepted, senderOf } from '../tables/accepted-messages';
import { spendAllOrNone, type Charge } from '../tables/rate-limits';
import { isAcceptanceOf } from './stream-once';

const TokenBucketRule = z.strictObject({ burst: z.number().int().positive(), refillMs: z.number().int().positive() });

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
 * Spends the tokens of a SEND (with its recipient) or GROUP_SEND (without), or throws RATE_LIMITED with
 * `retryAfterSeconds`. A retry of a message this device already had accepted is never refused: it may
 * be retrying because the first ACK was lost, and it is answered without being delivered again.
 */
export async function chargeSend(deps: Deps, caller: Caller, frame: { msgId: string; conversationId: string }, recipient?: string): Promise<void> {
  const limits = sendRateLimitsOf(deps);
  const sender = senderOf(caller);
  const charges: Charge[] = [
    { bucket: `send:${sender}`, cost: 1, rule: limits.perDevice },
    ...(recipient === undefined ? [] : [{ bucket: `sendTo:${sender}:${recipient}`, cost: 1, rule: limits.perRecipient }]),
  ];
  const spend = await spendAllOrNone(deps, charges);
  if (spend.allowed) return;
  const accepted = await getAccepted(deps, frame.msgId);
  if (accepted && isAcceptanceOf(accepted, caller, frame)) return;
  throw rateLimited('Too many messages from this device; nothing was sent', spend.retryAfterMs);
}
