/** The rate limit on fetching bundles, per requesting device: overall and per target user. */
import { ParleyError } from '../protocol/errors';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { refundTokens, spendTokens, type TokenBucketRule } from '../tables/key-fetch-limits';
import { FETCHES_PER_DEVICE, FETCHES_PER_USER } from './constants';

interface Charge {
  readonly bucket: string;
  readonly cost: number;
  readonly rule: TokenBucketRule;
}

const rateLimited = (retryAfterMs: number) =>
  new ParleyError('RATE_LIMITED', 'Too many key fetches from this device; nothing was taken', {
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
  });

const refund = (deps: Deps, charges: readonly Charge[]) =>
  Promise.all(charges.map((charge) => refundTokens(deps, charge.bucket, charge.cost, charge.rule)));

/**
 * Spends the caller's tokens for fetching these users, or none: a refused fetch throws RATE_LIMITED
 * before any key is taken, and gives back what it had spent.
 */
export async function chargeKeyFetch(deps: Deps, caller: Caller, userIds: readonly string[]): Promise<void> {
  const requester = `${caller.userId}.${caller.deviceId}`;
  const overall: Charge = { bucket: `device:${requester}`, cost: userIds.length, rule: FETCHES_PER_DEVICE };
  const spentOverall = await spendTokens(deps, overall.bucket, overall.cost, overall.rule);
  if (!spentOverall.allowed) throw rateLimited(spentOverall.retryAfterMs);

  const perUser = userIds.map((userId): Charge => ({ bucket: `user:${requester}:${userId}`, cost: 1, rule: FETCHES_PER_USER }));
  const spends = await Promise.all(perUser.map((charge) => spendTokens(deps, charge.bucket, charge.cost, charge.rule)));
  const refused = spends.flatMap((spend) => (spend.allowed ? [] : [spend.retryAfterMs]));
  if (refused.length === 0) return;
  await refund(deps, [overall, ...perUser.filter((_, i) => spends[i]!.allowed)]);
  throw rateLimited(Math.max(...refused));
}
