/** SYNC: answers one page of the device's queue, SYNC_PAGE with a cursor for more, or QUEUE_EMPTY as the last. */
import { SyncFrame } from '../protocol/frames';
import { webSocketRoute } from '../runtime/websocket-route';
import { syncPage } from './queue-sync';
import { METRIC, MetricUnit, recordMetric } from '../runtime/metrics';

export const handler = webSocketRoute('sync', SyncFrame, async (frame, ctx, deps) => {
  const started = deps.now();
  const page = await syncPage(deps, ctx.caller, frame.cursor, frame.receiptsAfter);
  recordMetric(METRIC.syncDuration, deps.now() - started, undefined, MetricUnit.Milliseconds);
  recordMetric(METRIC.syncPages);
  recordMetric(METRIC.syncFrames, page.frames.length);
  return page;
});
