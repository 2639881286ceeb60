/**
 * The routing table's TTL deletions (its DynamoDB stream on AWS, the TTL sweeper locally): a route that
 * expired belonged to a connection that died without a `$disconnect`; its device goes offline.
 */
import { defineHandler } from '../runtime/lambda-handler';
import { ttlDeletedItems } from '../runtime/stream-events';
import type { RouteRecord } from '../tables/routing-table';
import { routeExpired } from './device-presence';

export const handler = defineHandler('routeExpiry', async (rawEvent, deps) => {
  for (const route of ttlDeletedItems<RouteRecord>(rawEvent)) await routeExpired(deps, route);
});
