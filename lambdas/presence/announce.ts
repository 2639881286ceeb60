/**
 * A presence change reaches the devices that watch the user: one query of the user's subscriptions (at
 * most MAX_WATCHERS_PER_CHANGE), the privacy reads of `viewsOf` in batches, one `@connections` post per
 * watching connection. Never queued, never retried: a device that misses one asks again when it subscribes.
 */
import type { Deps } from '../runtime/deps';
import { postFrame } from '../connect/connections';
import { mapConcurrently } from '../runtime/concurrency';
import { removeGoneSubscription, subscriptionsTo } from '../tables/presence-subscriptions';
import { getPresence, presenceOf, type PresenceRecord } from '../tables/presence';
import { listRoutes } from '../tables/routing-table';
import { viewsOf } from './views';

/** The most watching connections one presence change is posted to: the bound of its cost. */
export const MAX_WATCHERS_PER_CHANGE = 1000;
const CONCURRENT_POSTS = 32;

/** Posts the user's presence, as each may see it, to every connection that watches the user. */
export async function announcePresence(deps: Deps, presence: PresenceRecord): Promise<void> {
  const subscriptions = await subscriptionsTo(deps, presence.userId, MAX_WATCHERS_PER_CHANGE);
  if (subscriptions.length === 0) return;
  const views = await viewsOf(deps, subscriptions.map((subscription) => ({ presence, viewer: subscription.subscriberUserId })));
  const deliveries = subscriptions.map((subscription, index) => ({ subscription, view: views[index]! }));
  await mapConcurrently(deliveries, CONCURRENT_POSTS, async ({ subscription, view }) => {
    const sent = await postFrame(deps, subscription.connectionId, { type: 'PRESENCE', ...view });
    if (sent === 'gone') await removeGoneSubscription(deps, subscription);
  });
}

/**
 * The user's own settings changed what they see of others (reciprocity): each of their live devices gets
 * the presence of the users it watches again.
 */
export async function refreshWatchedPresence(deps: Deps, userId: string): Promise<void> {
  const routes = (await listRoutes(deps, userId)).filter((route) => route.watching?.length);
  const watched = await presenceOf(deps, routes.flatMap((route) => route.watching ?? []));
  await mapConcurrently(routes, 4, async (route) => {
    const views = await viewsOf(deps, (route.watching ?? []).map((id) => ({ presence: watched.get(id)!, viewer: userId })));
    await mapConcurrently(views, CONCURRENT_POSTS, (view) => postFrame(deps, route.connectionId, { type: 'PRESENCE', ...view }));
  });
}

/** Settings, contacts or blocks of the user changed: everyone watching the user, and the user's own devices, see the result at once. */
export async function announceSettingsChange(deps: Deps, userId: string): Promise<void> {
  await Promise.all([announcePresence(deps, await getPresence(deps, userId)), refreshWatchedPresence(deps, userId)]);
}
