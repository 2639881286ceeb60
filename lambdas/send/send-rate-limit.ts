/**
 * How fast a device may send, in Signal-Server's shape: every SEND and GROUP_SEND takes a token of the
 * sending device's bucket (the `rateLimits` table), and a SEND one more of the bucket of its sending
 * device → recipient user pair. A 1:1 conversation has exactly those two users, so the pair's bucket lives
 * on the conversation's clock item and is spent by the same write that stamps the message: one write
 * less per SEND than a bucket item of its own ({@link SendCharge}). A message refused by either limit
 * spends no tokens (the device's is given back when the pair refuses) and stores nothing.
 */
import * as z from '../protocol/zod';
import { rateLimited } from '../protocol/errors';
import { env } from '../resources';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { getAccepted, senderOf } from '../tables/accepted-messages';
import { nextServerTs, nextServerTsSpending, type ClockBucketCharge } from '../tables/conversation-clocks';
import { refundTokens, spendTokens, type Spend } from '../tables/rate-limits';
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

const pairChargeOf = (caller: Caller, limits: SendRateLimits): ClockBucketCharge =>
  // The recipient is the conversation's other member: the pair's bucket is the sending device's on it.
  ({ bucket: `sendTo:${senderOf(caller)}`, cost: 1, rule: limits.perRecipient });

/**
 * The tokens of a SEND or GROUP_SEND: the device's, spent while the frame's other checks run
 * ({@link admitMessage}), and, for a SEND, the pair's, spent by the write that stamps the message once every
 * check has passed (a message refused before is not stamped: the clock and the pair's bucket stay as they
 * were, and no clock item is made for a conversation that does not exist). A frame on a replaced
 * connection gets the device's token back; so does a SEND refused by the pair's limit. A message refused
 * for anything else keeps the device's token spent: it is the price of any frame a device sends, or a
 * flood of refused ones would cost it nothing. A retry of a message accepted before is let through
 * either limit, and answered with its first ACK.
 */
export class SendCharge {
  private constructor(
    private readonly deps: Deps,
    private readonly caller: Caller,
    private readonly frame: Sent,
    private readonly kind: 'direct' | 'group',
    private readonly limits: SendRateLimits,
    private readonly device: Spend,
  ) {}

  /** Spends the device's token. */
  static async spend(deps: Deps, caller: Caller, frame: Sent, kind: 'direct' | 'group'): Promise<SendCharge> {
    const limits = sendRateLimitsOf(deps);
    const device = await spendTokens(deps, deviceBucketOf(caller), 1, limits.perDevice);
    return new SendCharge(deps, caller, frame, kind, limits, device);
  }

  /** Throws RATE_LIMITED when the device had no token, unless the message is a retry. */
  async admitDevice(): Promise<void> {
    if (this.device.allowed || (await isAcceptedRetry(this.deps, this.caller, this.frame))) return;
    throw rateLimited('Too many messages from this device; nothing was sent', this.device.retryAfterMs);
  }

  /**
   * The message's stamp, spending a SEND's pair token in the same write; or RATE_LIMITED when the pair has
   * none (the clock does not tick; the device's token goes back), unless the message is a retry, which
   * then takes a stamp of the clock alone.
   */
  async stamp(): Promise<number> {
    const { deps, frame } = this;
    if (this.kind === 'group') return nextServerTs(deps, frame.conversationId);
    const stamped = await nextServerTsSpending(deps, frame.conversationId, pairChargeOf(this.caller, this.limits));
    if (stamped.allowed) return stamped.serverTs;
    await this.refund();
    if (await isAcceptedRetry(deps, this.caller, frame)) return nextServerTs(deps, frame.conversationId);
    throw rateLimited('Too many messages from this device to this recipient; nothing was sent', stamped.retryAfterMs);
  }

  /** Gives the device's token back: the frame came on a replaced connection, or the pair refused it. */
  async refund(): Promise<void> {
    if (this.device.allowed) await refundTokens(this.deps, deviceBucketOf(this.caller), 1, this.limits.perDevice);
  }
}
