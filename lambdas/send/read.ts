/** READ: the conversation is read up to a message; the receipt travels the messages' path. */
import { ReadFrame } from '../protocol/frames';
import { webSocketRoute } from '../runtime/websocket-route';
import { markRead } from './mark-read';

export const handler = webSocketRoute('read', ReadFrame, (frame, ctx, deps) => markRead(deps, ctx.caller, frame));
