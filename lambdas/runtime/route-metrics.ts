import { METRIC, recordMetric } from './metrics';

/**
 * Counts one handled frame or request, and the error it was answered with if any: by code alone (what the
 * INTERNAL-rate alarm reads) and by route and code (the dashboard; SEND refused by code is `route=send`).
 * `route` is the handler's name, one of a fixed set.
 */
export function countRoute(route: string, errorCode: string | undefined): void {
  recordMetric(METRIC.requests);
  if (errorCode === undefined) return;
  recordMetric(METRIC.routeErrors, 1, { code: errorCode });
  recordMetric(METRIC.routeErrorsByRoute, 1, { route, code: errorCode });
}
