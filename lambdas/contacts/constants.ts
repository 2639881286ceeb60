import type { TokenBucketRule } from '../tables/rate-limits';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Numbers a device may look up per day (Signal's contact discovery has such a quota), refilling evenly over the day. */
export const LOOKUPS_PER_DAY = 1000;

export const LOOKUP_QUOTA: TokenBucketRule = { burst: LOOKUPS_PER_DAY, refillMs: DAY_MS / LOOKUPS_PER_DAY };
