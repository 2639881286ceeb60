/**
 * SYNC: answers one page of the device's queue, SYNC_PAGE with a cursor for more, or QUEUE_EMPTY as the
 * last, after acknowledging the group messages it names (`groups`, as DELIVERED's): a returning device's
 * SYNC carries the acknowledgement of what its previous SYNC brought, so a return costs no DELIVERED.
 */
import { SyncFrame } from '../protocol/frames';
import { webSocketRoute } from '../runtime/websocket-route';
import { syncPage } from './queue-sync';
import { METRIC, MetricUnit, recordMetric } from '../runtime/metrics';
import { annotateMessage } from '../runtime/message-trace';

export const handler = webSocketRoute('sync', SyncFrame, async (frame, ctx, deps) => {
  const started = deps.now();
  const { page, acknowledged } = await syncPage(deps, ctx.caller, frame.cursor, frame.receiptsAfter, frame.groups);
  if (acknowledged.delivered > 0) recordMetric(METRIC.messagesDelivered, acknowledged.delivered);
  // The page's messages, so a message's trace search finds the SYNC that handed it out.
  annotateMessage(deps.tracer, { msgIds: page.frames.flatMap((frame) => (frame.type === 'PUSH' ? [frame.msgId] : [])) });
  recordMetric(METRIC.syncDuration, deps.now() - started, undefined, MetricUnit.Milliseconds);
  recordMetric(METRIC.syncPages);
  recordMetric(METRIC.syncFrames, page.frames.length);
  return page;
});
