/** SEND: answers ACK once the message is durably on the stream, or an ERROR frame saying why not. */
import { SendFrame } from '../protocol/frames';
import { webSocketRoute } from '../runtime/websocket-route';
import { acceptMessage } from './accept-message';
import { METRIC, recordMetric } from '../runtime/metrics';

export const handler = webSocketRoute('send', SendFrame, async (frame, ctx, deps) => {
  const ack = await acceptMessage(deps, { userId: ctx.caller.userId, deviceId: ctx.caller.deviceId }, frame);
  recordMetric(METRIC.messagesAccepted, 1, { route: 'send' });
  return ack;
});
