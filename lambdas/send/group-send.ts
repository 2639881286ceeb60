/** GROUP_SEND: validate, check membership, stamp, put on the stream, ACK. */
import { GroupSendFrame } from '../protocol/frames';
import { webSocketRoute } from '../runtime/websocket-route';
import { acceptGroupMessage } from './accept-group-message';

export const handler = webSocketRoute('groupSend', GroupSendFrame, (frame, ctx, deps) => acceptGroupMessage(deps, ctx.caller, frame));
