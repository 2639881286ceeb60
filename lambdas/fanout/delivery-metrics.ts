import type { QueuedFrame } from '../protocol/frames';
import type { Deps } from '../runtime/deps';
import { METRIC, MetricUnit, recordMetric } from '../runtime/metrics';

/**
 * Counts what the fanout did with one frame: `live` devices were posted to, `offline` ones will find it at
 * their next SYNC. For a message (PUSH), each live post also records its end-to-end delivery latency: from
 * the send handler's `serverTs` stamp to now, just after the `@connections` post returned.
 */
export function countDeliveries(deps: Deps, frame: QueuedFrame, live: number, offline: number): void {
  if (live > 0) recordMetric(METRIC.liveDeliveries, live);
  if (offline > 0 && frame.type === 'PUSH') recordMetric(METRIC.queuedOffline, offline);
  if (frame.type !== 'PUSH' || live === 0) return;
  recordMetric(METRIC.messagesPushed, live);
  const latency = Math.max(0, deps.now() - frame.serverTs);
  for (let i = 0; i < live; i++) recordMetric(METRIC.deliveryLatency, latency, undefined, MetricUnit.Milliseconds);
}
