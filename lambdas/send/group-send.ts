/** GROUP_SEND: validate, check membership, stamp, put on the stream, ACK. */
import { GroupSendFrame } from '../protocol/frames';
import { METRIC, recordMetric } from '../runtime/metrics';
import { webSocketRoute } from '../runtime/websocket-route';
import { acceptGroupMessage } from './accept-group-message';

export const handler = webSocketRoute(
  'groupSend',
  GroupSendFrame,
  async (frame, ctx, deps) => {
    const ack = await acceptGroupMessage(deps, ctx.caller, frame, ctx.connection.connectionId);
    recordMetric(METRIC.messagesAccepted, 1, { route: 'groupSend' });
    return ack;
  },
  // acceptGroupMessage checks the session itself, beside its other reads.
  { checksSession: false },
);
