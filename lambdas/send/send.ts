/** SEND: answers ACK once the message is durably on the stream, or an ERROR frame saying why not. */
import { SendFrame } from '../protocol/frames';
import { webSocketRoute } from '../runtime/websocket-route';
import { acceptMessage } from './accept-message';

export const handler = webSocketRoute('send', SendFrame, (frame, ctx, deps) =>
  acceptMessage(deps, { userId: ctx.caller.userId, deviceId: ctx.caller.deviceId }, frame),
);
