/** The rate limits of the media routes, per device: uploads started and downloads started. */
import { rateLimited } from '../protocol/errors';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { spendAllOrNone, type TokenBucketRule } from '../tables/rate-limits';
import { DOWNLOADS_PER_DEVICE, UPLOADS_PER_DEVICE } from './constants';

const limits: Readonly<Record<'upload' | 'download', TokenBucketRule>> = { upload: UPLOADS_PER_DEVICE, download: DOWNLOADS_PER_DEVICE };

/** Spends one token of the device's `what` bucket, or throws RATE_LIMITED with the wait. */
export async function chargeMedia(deps: Deps, caller: Caller, what: 'upload' | 'download'): Promise<void> {
  const spend = await spendAllOrNone(deps, [{ bucket: `media-${what}:${caller.userId}.${caller.deviceId}`, cost: 1, rule: limits[what] }]);
  if (!spend.allowed) throw rateLimited(`Too many media ${what}s from this device`, spend.retryAfterMs);
}
