/** `$default`: frames that match no route get an error frame naming the actions that exist. */
import { webSocketRoutes } from '../functions';
import { ParleyError } from '../protocol/errors';
import { AnyClientFrame } from '../protocol/frames';
import { webSocketRoute } from '../runtime/websocket-route';

const knownActions = Object.keys(webSocketRoutes).filter((key) => !key.startsWith('$'));

export const handler = webSocketRoute('unknownAction', AnyClientFrame, async (frame) => {
  if (typeof frame.action !== 'string') {
    throw new ParleyError('BAD_REQUEST', 'A frame needs a string "action"', { knownActions });
  }
  throw new ParleyError('UNKNOWN_ACTION', `No action ${JSON.stringify(frame.action.slice(0, 64))}`, { knownActions });
  // It touches nothing of the device, so a replaced connection learns nothing from it either.
}, { checksSession: false });
