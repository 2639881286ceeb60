/**
 * DELIVERED: the device stored the frames at these cursors; they leave its queue (group messages: its
 * cursor in the group moves on), their senders see two grey ticks, and their previews go to its chat
 * list. Answered only when the frame has a `requestId`: a device acknowledges every frame it gets, and an
 * answer nobody waits for is a billed message.
 *
 * No connection check: a DELIVERED can only name cursors the device was sent, and a connection the device
 * replaced was sent only what it got while it was the device's session, so its late DELIVERED is the
 * one it would have sent then. Skipping the check saves a consistent read on the most frequent frame.
 */
import { DeliveredFrame } from '../protocol/frames';
import { webSocketRoute } from '../runtime/websocket-route';
import { storeDeliveredPreviews } from './previews';
import { acknowledgeDelivered, deliveredAck } from './queue-sync';
import { METRIC, recordMetric } from '../runtime/metrics';
import { acknowledgeGroupCursors } from './group-delivered';

export const handler = webSocketRoute(
  'delivered',
  DeliveredFrame,
  async (frame, ctx, deps) => {
    const acknowledged = frame.cursors.length ? await acknowledgeDelivered(deps, ctx.caller, frame.cursors) : { taken: [], movedStates: new Set<string>() };
    const ignoredPreviews = frame.previews ? await storeDeliveredPreviews(deps, ctx.caller, frame.previews, acknowledged) : [];
    const groups = frame.groups ? await acknowledgeGroupCursors(deps, ctx.caller, frame.groups) : { delivered: 0, ignoredPreviews: [] };
    ignoredPreviews.push(...groups.ignoredPreviews);
    const messages = acknowledged.taken.filter((item) => item.frame.type === 'PUSH').length + groups.delivered;
    if (messages > 0) recordMetric(METRIC.messagesDelivered, messages);
    return frame.requestId ? { ...deliveredAck(frame.cursors), ...(ignoredPreviews.length ? { ignoredPreviews } : {}) } : undefined;
  },
  { checksSession: false },
);
