/** How many one-time prekeys of each kind a device has left. */
import type { PrekeyCounts } from '../protocol/keys-api';
import type { Deps } from '../runtime/deps';
import { countPrekeys } from '../tables/one-time-prekeys';

/** Exact counts; `upTo` stops each count there (enough to tell "fewer than upTo"). */
export async function prekeyCounts(deps: Deps, pool: string, upTo?: number): Promise<PrekeyCounts> {
  const [oneTimePrekeys, kyberPrekeys] = await Promise.all([
    countPrekeys(deps, pool, 'ec', upTo),
    countPrekeys(deps, pool, 'kyber', upTo),
  ]);
  return { oneTimePrekeys, kyberPrekeys };
}
