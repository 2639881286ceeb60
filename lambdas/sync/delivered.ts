/**
 * DELIVERED: the device stored these messages; they leave its queue, and their previews go to its chat
 * list. Answered only when the frame has a `requestId`: a device acknowledges every message it gets, and
 * an answer nobody waits for is a billed message.
 */
import { DeliveredFrame } from '../protocol/frames';
import { webSocketRoute } from '../runtime/websocket-route';
import { storeDeliveredPreviews } from './previews';
import { acknowledgeDelivered } from './queue-sync';

export const handler = webSocketRoute('delivered', DeliveredFrame, async (frame, ctx, deps) => {
  // Previews first: each is found through its queued message, which acknowledging deletes.
  const ignoredPreviews = frame.previews ? await storeDeliveredPreviews(deps, ctx.caller, frame.previews) : [];
  const answer = await acknowledgeDelivered(deps, ctx.caller, frame.msgIds);
  return frame.requestId ? { ...answer, ...(ignoredPreviews.length ? { ignoredPreviews } : {}) } : undefined;
});
