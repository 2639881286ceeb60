/** SEND: answers ACK once the message is durably on the stream, or an ERROR frame saying why not. */
import { SendFrame } from '../protocol/frames';
import { webSocketRoute } from '../runtime/websocket-route';
import { acceptMessage } from './accept-message';
import { METRIC, recordMetric } from '../runtime/metrics';

export const handler = webSocketRoute(
  'send',
  SendFrame,
  async (frame, ctx, deps) => {
    const caller = { userId: ctx.caller.userId, deviceId: ctx.caller.deviceId };
    const ack = await acceptMessage(deps, caller, frame, ctx.connection.connectionId);
    recordMetric(METRIC.messagesAccepted, 1, { route: 'send' });
    return ack;
  },
  // acceptMessage checks the session itself, beside its other reads.
  { checksSession: false },
);
