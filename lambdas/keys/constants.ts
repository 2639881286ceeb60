/**
 * How fast a device may fetch other devices' bundles. Each user fetched (by GET, in a batch or in
 * FETCH_KEYS) takes one token from two buckets of the requesting device; a refused request takes no
 * keys and no tokens.
 */
import type { TokenBucketRule } from '../tables/rate-limits';

/**
 * Per requesting device, over all users: 1,500 at once, then 1,000 an hour. Creating a group of 1,024
 * members (16 batches of 64) fits at once, and a device cannot sweep a key off every user it can name.
 */
export const FETCHES_PER_DEVICE: TokenBucketRule = { burst: 1500, refillMs: 3_600 };

/**
 * Per requesting device and target user: 5 at once, then one every 12 minutes. Enough for a session, a
 * new device of the peer and a retry; draining a device's 100 one-time prekeys would take a day per
 * requesting device.
 */
export const FETCHES_PER_USER: TokenBucketRule = { burst: 5, refillMs: 12 * 60_000 };
