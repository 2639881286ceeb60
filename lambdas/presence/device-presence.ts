/**
 * A user is online while any of their devices holds a connection. `$connect` and `$disconnect` (and the
 * expiry of a route whose connection died without one) turn it, each by one conditional update of the
 * user's presence item; only a change is announced.
 */
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { routeTtlMs } from '../protocol/limits';
import type { RouteRecord } from '../tables/routing-table';
import { recordConnection, recordDisconnection } from '../tables/presence';
import { announcePresence } from './announce';
import { logger } from '../runtime/observability';
import { METRIC, recordMetric } from '../runtime/metrics';

/**
 * Presence is best effort: a failure to record or announce it is logged and never refuses a connection
 * (nor fails a `$disconnect`, which API Gateway does not retry).
 */
async function bestEffort(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    logger.warn('Presence not updated', { error: error as Error });
  }
}

/** `$connect`: the device holds this connection; the user comes online if no other device was. */
export async function deviceConnected(deps: Deps, caller: Caller, connectionId: string): Promise<void> {
  await bestEffort(async () => {
    const { before, after } = await recordConnection(deps, caller.userId, caller.deviceId, connectionId);
    if (before.online) return;
    recordMetric(METRIC.presenceChanges, 1, { state: 'online' });
    await announcePresence(deps, after);
  });
}

/** The connection went away at `at`: the user goes offline, last seen `at`, if it was their last device's. */
export async function deviceDisconnected(deps: Deps, caller: Caller, connectionId: string, at: number): Promise<void> {
  await bestEffort(async () => {
    const after = await recordDisconnection(deps, caller.userId, caller.deviceId, connectionId, at);
    if (!after || after.online) return;
    recordMetric(METRIC.presenceChanges, 1, { state: 'offline' });
    await announcePresence(deps, after);
  });
}

/**
 * A route expired without a `$disconnect` (the phone died with its socket open): the device was last
 * seen at its last heartbeat, which set the route's expiry `routeTtlMs` ahead.
 */
export async function routeExpired(deps: Deps, route: RouteRecord): Promise<void> {
  const lastHeartbeat = Math.max(route.connectedAt, route.expiresAt * 1000 - routeTtlMs);
  await deviceDisconnected(deps, route, route.connectionId, lastHeartbeat);
}
