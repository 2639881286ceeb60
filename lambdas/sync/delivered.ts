/** DELIVERED: the device stored these messages; they leave its queue. */
import { DeliveredFrame } from '../protocol/frames';
import { webSocketRoute } from '../runtime/websocket-route';
import { acknowledgeDelivered } from './queue-sync';

export const handler = webSocketRoute('delivered', DeliveredFrame, async (frame, ctx, deps) => ({
  ...(await acknowledgeDelivered(deps, ctx.caller, frame.msgIds)),
  ...(frame.requestId ? { requestId: frame.requestId } : {}),
}));
