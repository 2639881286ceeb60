/**
 * DELIVERED: the device stored these messages; they leave its queue. Answered only when the frame has a
 * `requestId`: a device acknowledges every message it gets, and an answer nobody waits for is a billed
 * message.
 */
import { DeliveredFrame } from '../protocol/frames';
import { webSocketRoute } from '../runtime/websocket-route';
import { acknowledgeDelivered } from './queue-sync';

export const handler = webSocketRoute('delivered', DeliveredFrame, async (frame, ctx, deps) => {
  const answer = await acknowledgeDelivered(deps, ctx.caller, frame.msgIds);
  return frame.requestId ? answer : undefined;
});
