/**
 * A device's session is its one live connection. The routing table maps {userId, deviceId} to it, so
 * that messages reach the device wherever it connected last.
 */
import { routeGraceMs, routeTtlMs, webSocketLimits } from '../protocol/limits';
import { sessionCloseReasons, type ServerFrame, type SessionCloseReason } from '../protocol/frames';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { deleteRoute, getRoute, listRoutes, putRoute, refreshRoute, routesOf, type RouteRecord } from '../tables/routing-table';
import { mapConcurrently } from '../runtime/concurrency';
import { closeConnection, postFrame } from './connections';
import { METRIC, recordMetric } from '../runtime/metrics';

export interface Connection {
  readonly connectionId: string;
  /** Epoch milliseconds when API Gateway opened it. */
  readonly connectedAt: number;
}

/** Epoch seconds until which the route lives without another heartbeat. */
function routeExpiry(deps: Deps, connection: Connection): number {
  const latest = connection.connectedAt + webSocketLimits.maxConnectionMs + routeGraceMs;
  return Math.floor(Math.min(deps.now() + routeTtlMs, latest) / 1000);
}

function routeOf(deps: Deps, caller: Caller, connection: Connection): RouteRecord {
  return { ...caller, ...connection, expiresAt: routeExpiry(deps, connection) };
}

/** Tells a connection why it is being closed, then closes it. */
async function endConnection(deps: Deps, connectionId: string, reason: SessionCloseReason): Promise<void> {
  const sent = await postFrame(deps, connectionId, { type: 'SESSION_CLOSED', reason, code: sessionCloseReasons[reason] });
  if (sent === 'sent') await closeConnection(deps, connectionId);
}

/** A frame came on a connection the device has replaced: it was told why and closed, and gets no answer. */
export class ConnectionReplaced extends Error {
  constructor() {
    super('The device has connected again; this connection is closed');
    this.name = 'ConnectionReplaced';
  }
}

/**
 * `$connect`: the device's route now points here and the connection it replaces is closed. Answers
 * 'replaced' when a newer connection of the device took the route meanwhile: its attempt to close this
 * one found nothing to close (API Gateway answers Gone while a connection is in its handshake), so this
 * handshake must be refused instead, or it would open beside the newer one.
 */
export async function openSession(deps: Deps, caller: Caller, connection: Connection): Promise<'open' | 'replaced'> {
  // ALL_OLD makes each put answer exactly the route it replaced, so concurrent connects form one chain
  // in which every connection but the newest is closed by its successor.
  const replaced = await putRoute(deps, routeOf(deps, caller, connection));
  if (replaced && replaced.connectionId !== connection.connectionId) {
    await endConnection(deps, replaced.connectionId, 'CONNECTED_ELSEWHERE');
  }
  return (await isReplaced(deps, caller, connection.connectionId)) ? 'replaced' : 'open';
}

/** Whether a newer connection of the device holds its route. A route that is gone replaces nothing. */
async function isReplaced(deps: Deps, caller: Caller, connectionId: string): Promise<boolean> {
  const route = await getRoute(deps, caller.userId, caller.deviceId);
  return route !== undefined && route.connectionId !== connectionId;
}

/**
 * Every frame but HEARTBEAT (whose refresh checks the same) comes from the device's one session: a
 * connection that slipped through its handshake while a newer one replaced it is closed at its first
 * frame, before it can send, read or empty the device's queue.
 */
export async function ensureCurrentSession(deps: Deps, caller: Caller, connectionId: string): Promise<void> {
  if (!(await isReplaced(deps, caller, connectionId))) return;
  await endConnection(deps, connectionId, 'CONNECTED_ELSEWHERE');
  throw new ConnectionReplaced();
}

/** `$disconnect`: forget the route unless the device has connected again meanwhile. */
export async function closeSession(deps: Deps, caller: Caller, connectionId: string): Promise<void> {
  await deleteRoute(deps, caller.userId, caller.deviceId, connectionId);
}

/** Heartbeat: keep the route alive; answers its new expiry in epoch milliseconds. */
export async function refreshSession(deps: Deps, caller: Caller, connection: Connection): Promise<number> {
  const route = routeOf(deps, caller, connection);
  if (!(await refreshRoute(deps, route))) {
    await endConnection(deps, connection.connectionId, 'CONNECTED_ELSEWHERE');
    throw new ConnectionReplaced();
  }
  return route.expiresAt * 1000;
}

/** Ends the device's live session, if it has one: the device was removed or its account re-registered. */
export async function endDeviceSession(deps: Deps, userId: string, deviceId: number): Promise<void> {
  const route = await getRoute(deps, userId, deviceId);
  if (!route) return;
  await endConnection(deps, route.connectionId, 'DEVICE_REMOVED');
  await deleteRoute(deps, userId, deviceId, route.connectionId);
}

/**
 * Sends a frame to the device's live connection, if it has one. A connection that turns out to be gone
 * (dropped without a `$disconnect`) loses its route, so the next sender does not try it again, unless it
 * is young enough to be still in its handshake.
 */
export async function sendToDevice(
  deps: Deps,
  userId: string,
  deviceId: number,
  frame: ServerFrame,
): Promise<'sent' | 'offline'> {
  const route = await getRoute(deps, userId, deviceId);
  return route && (await postToRoute(deps, route, frame)) ? 'sent' : 'offline';
}

/**
 * How long after it opened a connection may still be in its handshake. `$connect` records the route before
 * the handshake ends, and until it ends API Gateway answers Gone to a post: a frame queued then reaches the
 * device by its SYNC, but removing the route would leave the device unreachable live until its next heartbeat.
 * API Gateway gives `$connect` at most 29 s.
 */
const HANDSHAKE_MS = 30_000;

/** A connection that answered Gone loses its route, unless it may just be still opening. */
async function forgetGoneRoute(deps: Deps, route: RouteRecord): Promise<void> {
  if (deps.now() - route.connectedAt < HANDSHAKE_MS) return;
  await deleteRoute(deps, route.userId, route.deviceId, route.connectionId);
  recordMetric(METRIC.goneConnections);
}

/** Connections posted to at once by one fan-out. */
const CONCURRENT_POSTS = 32;

/**
 * Sends each device its frame on its live connection: routes read in batches, posts
 * with bounded concurrency, gone connections lose their routes. Answers the devices that were offline.
 * `ready` holds the posts back until the frame is stored, while the routes are already being read.
 */
export async function sendToDevices<D extends { userId: string; deviceId: number }>(
  deps: Deps,
  devices: readonly D[],
  frameOf: (device: D) => ServerFrame,
  ready: Promise<unknown> = Promise.resolve(),
): Promise<D[]> {
  const [found] = await Promise.all([routesOf(deps, devices), ready]);
  const routes = new Map(found.map((route) => [`${route.userId}.${route.deviceId}`, route]));
  const reached = await mapConcurrently(devices, CONCURRENT_POSTS, async (device) => {
    const route = routes.get(`${device.userId}.${device.deviceId}`);
    return route ? postToRoute(deps, route, frameOf(device)) : false;
  });
  return devices.filter((_, index) => !reached[index]);
}

/** Posts to the route's connection; a gone one loses its route. Answers whether the frame was sent. */
async function postToRoute(deps: Deps, route: RouteRecord, frame: ServerFrame): Promise<boolean> {
  if ((await postFrame(deps, route.connectionId, frame)) === 'sent') return true;
  await forgetGoneRoute(deps, route);
  return false;
}

/**
 * Sends a frame to every live connection of a user's devices, found with one query of the user's
 * routes, for what is not queued (a conversation's delivery state): an offline device reads it at SYNC.
 * Answers how many devices got it.
 */
export async function sendToLiveDevices(deps: Deps, userId: string, frame: ServerFrame): Promise<number> {
  const routes = await listRoutes(deps, userId);
  const sent = await Promise.all(routes.map((route) => postToRoute(deps, route, frame)));
  return sent.filter(Boolean).length;
}
