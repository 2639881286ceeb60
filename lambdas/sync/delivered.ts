/**
 * DELIVERED: the device stored these messages; they leave its queue (group messages: its cursor in the
 * group moves on), and their previews go to its chat list. Answered only when the frame has a `requestId`: a device acknowledges every message it gets, and
 * an answer nobody waits for is a billed message.
 */
import { DeliveredFrame } from '../protocol/frames';
import { webSocketRoute } from '../runtime/websocket-route';
import { storeDeliveredPreviews } from './previews';
import { acknowledgeDelivered, findAcknowledged, type QueuedByMessage } from './queue-sync';
import { METRIC, recordMetric } from '../runtime/metrics';
import { acknowledgeGroupCursors } from './group-delivered';

export const handler = webSocketRoute('delivered', DeliveredFrame, async (frame, ctx, deps) => {
  // One lookup serves both: each preview is found through its queued message, which acknowledging deletes.
  const queued: QueuedByMessage = frame.msgIds.length ? await findAcknowledged(deps, ctx.caller, frame.msgIds) : new Map();
  const ignoredPreviews = frame.previews ? await storeDeliveredPreviews(deps, ctx.caller, frame.previews, queued) : [];
  const answer = await acknowledgeDelivered(deps, ctx.caller, frame.msgIds, queued);
  const groups = frame.groups ? await acknowledgeGroupCursors(deps, ctx.caller, frame.groups) : { delivered: 0, ignoredPreviews: [] };
  ignoredPreviews.push(...groups.ignoredPreviews);
  const messages = [...queued.values()].filter((items) => items.some((item) => item.frame.type === 'PUSH')).length + groups.delivered;
  if (messages > 0) recordMetric(METRIC.messagesDelivered, messages);
  return frame.requestId ? { ...answer, ...(ignoredPreviews.length ? { ignoredPreviews } : {}) } : undefined;
});
