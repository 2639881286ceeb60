/** TYPING: relayed to the conversation's other live devices, never answered but by an ERROR frame. */
import { TypingFrame } from '../protocol/frames';
import { webSocketRoute } from '../runtime/websocket-route';
import { relayTyping } from './typing-relay';

export const handler = webSocketRoute('typing', TypingFrame, async (frame, ctx, deps) => {
  await relayTyping(deps, ctx.caller, frame);
  return undefined;
  // Typing touches no state of the device: a replaced connection's frame costs no route read to refuse.
}, { checksSession: false });
