/** The rate limit on fetching bundles, per requesting device: overall and per target user. */
import { rateLimited } from '../protocol/errors';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { spendAllOrNone, type Charge } from '../tables/rate-limits';
import { FETCHES_PER_DEVICE, FETCHES_PER_USER } from './constants';

/**
 * Spends the caller's tokens for fetching these users, or none: a refused fetch throws RATE_LIMITED
 * before any key is taken, and gives back what it had spent.
 */
export async function chargeKeyFetch(deps: Deps, caller: Caller, userIds: readonly string[]): Promise<void> {
  const requester = `${caller.userId}.${caller.deviceId}`;
  const spend = await spendAllOrNone(deps, [
    { bucket: `device:${requester}`, cost: userIds.length, rule: FETCHES_PER_DEVICE },
    ...userIds.map((userId): Charge => ({ bucket: `user:${requester}:${userId}`, cost: 1, rule: FETCHES_PER_USER })),
  ]);
  if (!spend.allowed) throw rateLimited('Too many key fetches from this device; nothing was taken', spend.retryAfterMs);
}
