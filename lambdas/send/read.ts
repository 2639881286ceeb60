/** READ: the conversation is read up to a message; the receipt travels the messages' path. */
import { ReadFrame } from '../protocol/frames';
import { webSocketRoute } from '../runtime/websocket-route';
import { markRead } from './mark-read';
import { METRIC, recordMetric } from '../runtime/metrics';

export const handler = webSocketRoute('read', ReadFrame, async (frame, ctx, deps) => {
  const ack = await markRead(deps, ctx.caller, frame);
  recordMetric(METRIC.readReceipts);
  return ack;
});
