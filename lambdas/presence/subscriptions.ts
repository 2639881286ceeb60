/**
 * SUBSCRIBE_PRESENCE and GET /v1/presence/{userId}: the presence of users as the caller may see it, and
 * the subscriptions through which the caller's connection hears of each change.
 */
import { ParleyError } from '../protocol/errors';
import type { PresenceView } from '../protocol/contacts-api';
import { routeGraceMs, webSocketLimits } from '../protocol/limits';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { ConnectionReplaced, type Connection } from '../connect/sessions';
import { usersWithDevice } from '../tables/devices';
import { getPresence, presenceOf } from '../tables/presence';
import { changeSubscriptions, subscriberKey } from '../tables/presence-subscriptions';
import { setWatchedUsers } from '../tables/routing-table';
import { viewsOf } from './views';

/** Refuses the request, naming them, when some of the users have no account (every account has device 1). */
export async function requireAccounts(deps: Deps, userIds: readonly string[]): Promise<void> {
  if (userIds.length === 0) return;
  const known = await usersWithDevice(deps, userIds, 1);
  const unknownUsers = userIds.filter((userId) => !known.has(userId));
  if (unknownUsers.length) throw new ParleyError('NOT_FOUND', 'Some users have no account', { unknownUsers });
}

/** What the caller may see of one user's presence now. */
export async function presenceFor(deps: Deps, caller: Caller, userId: string): Promise<PresenceView> {
  await requireAccounts(deps, [userId]);
  const [view] = await viewsOf(deps, [{ presence: await getPresence(deps, userId), viewer: caller.userId }]);
  return view!;
}

/**
 * The connection watches exactly `userIds` from now on, until it closes: the subscriptions it no longer
 * wants go, the new ones live as long as the connection can. Answers their presence now, read after the
 * subscriptions are written, so that no change falls between the answer and the first PRESENCE frame.
 */
export async function subscribePresence(deps: Deps, caller: Caller, connection: Connection, userIds: readonly string[]): Promise<PresenceView[]> {
  await requireAccounts(deps, userIds);
  const before = await setWatchedUsers(deps, caller.userId, caller.deviceId, connection.connectionId, userIds);
  if (before === undefined) throw new ConnectionReplaced();
  const subscriber = subscriberKey(caller.userId, caller.deviceId);
  const expiresAt = Math.ceil((connection.connectedAt + webSocketLimits.maxConnectionMs + routeGraceMs) / 1000);
  const wanted = new Set(userIds);
  await changeSubscriptions(
    deps,
    userIds.map((userId) => ({ userId, subscriber, subscriberUserId: caller.userId, connectionId: connection.connectionId, expiresAt })),
    before.filter((userId) => !wanted.has(userId)).map((userId) => ({ userId, subscriber })),
  );
  const presence = await presenceOf(deps, userIds);
  return viewsOf(deps, userIds.map((userId) => ({ presence: presence.get(userId)!, viewer: caller.userId })));
}
