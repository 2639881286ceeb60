/**
 * How fast a device may send, in Signal-Server's shape: every SEND and GROUP_SEND takes a token of the
 * sending device's bucket (the `rateLimits` table), and a SEND one more of the bucket of its sending
 * device → recipient user pair. A 1:1 conversation has exactly those two users, so the pair's bucket lives
 * on the conversation's clock item and is spent by the same write that stamps the message: one write
 * less per SEND than a bucket item of its own. A SEND spends both at once, while its other checks run
 * ({@link SendCharge}); a message refused by either limit spends no tokens (the other's is given back) and
 * stores nothing.
 */
import * as z from '../protocol/zod';
import { rateLimited } from '../protocol/errors';
import { env } from '../resources';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { getAccepted, senderOf } from '../tables/accepted-messages';
import { nextServerTs, nextServerTsSpending, refundClockBucket, type ClockBucketCharge, type StampedSpend } from '../tables/conversation-clocks';
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

/** Spends the device's token of a GROUP_SEND, or throws RATE_LIMITED with `retryAfterSeconds` (never for a retry). */
export async function chargeGroupSend(deps: Deps, caller: Caller, frame: Sent): Promise<void> {
  const spend = await spendTokens(deps, deviceBucketOf(caller), 1, sendRateLimitsOf(deps).perDevice);
  if (spend.allowed || (await isAcceptedRetry(deps, caller, frame))) return;
  throw rateLimited('Too many messages from this device; nothing was sent', spend.retryAfterMs);
}

/**
 * What a SEND spent, in one round trip: the device's token, and the pair's token in the write that stamps
 * the message with its conversation's clock. Spent while the SEND's other checks run, so the route waits
 * for one round trip where it waited for three; whatever a message that does not go spent is given back,
 * in the order its refusals are answered: a replaced connection (both tokens back), the device's limit
 * (the pair's back), the message's devices (the pair's back; the device's token is the price of any SEND
 * it makes, or a flood of refused ones would cost it nothing), the pair's limit (the device's back).
 * A retry of a message accepted before is let through either limit, and answered with its first ACK.
 */
export class SendCharge {
  private constructor(
    private readonly deps: Deps,
    private readonly caller: Caller,
    private readonly frame: Sent,
    private readonly limits: SendRateLimits,
    private readonly device: Spend,
    private readonly stamped: StampedSpend,
  ) {}

  /** Spends both tokens and ticks the clock, at once. */
  static async spend(deps: Deps, caller: Caller, frame: Sent): Promise<SendCharge> {
    const limits = sendRateLimitsOf(deps);
    const [device, stamped] = await Promise.all([
      spendTokens(deps, deviceBucketOf(caller), 1, limits.perDevice),
      nextServerTsSpending(deps, frame.conversationId, pairChargeOf(caller, limits)),
    ]);
    return new SendCharge(deps, caller, frame, limits, device, stamped);
  }

  /** Throws RATE_LIMITED when the device had no token (giving the pair's back), unless the message is a retry. */
  async admitDevice(): Promise<void> {
    if (this.device.allowed || (await isAcceptedRetry(this.deps, this.caller, this.frame))) return;
    await this.refundPair();
    throw rateLimited('Too many messages from this device; nothing was sent', this.device.retryAfterMs);
  }

  /**
   * The message's stamp; or RATE_LIMITED when the pair had no token (the clock did not tick; the device's
   * token goes back), unless the message is a retry, which then takes a stamp of the clock alone.
   */
  async stamp(): Promise<number> {
    if (this.stamped.allowed) return this.stamped.serverTs;
    await this.refundDevice();
    if (await isAcceptedRetry(this.deps, this.caller, this.frame)) return nextServerTs(this.deps, this.frame.conversationId);
    throw rateLimited('Too many messages from this device to this recipient; nothing was sent', this.stamped.retryAfterMs);
  }

  /** The frame came on a connection the device has replaced: it sent nothing, and spends nothing. */
  async refundAll(): Promise<void> {
    await Promise.all([this.refundDevice(), this.refundPair()]);
  }

  /** The message was refused for its devices: the pair's token goes back, the device's stays spent. */
  async refundPair(): Promise<void> {
    if (this.stamped.allowed) await refundClockBucket(this.deps, this.frame.conversationId, pairChargeOf(this.caller, this.limits));
  }

  private async refundDevice(): Promise<void> {
    if (this.device.allowed) await refundTokens(this.deps, deviceBucketOf(this.caller), 1, this.limits.perDevice);
  }
}
