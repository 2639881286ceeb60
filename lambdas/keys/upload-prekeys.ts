/** UPLOAD_PREKEYS — `PUT /v1/keys/self` as a WebSocket frame. */
import { UploadPrekeysFrame } from '../protocol/frames';
import { webSocketRoute } from '../runtime/websocket-route';
import { uploadKeys } from './upload';

export const handler = webSocketRoute('uploadPrekeys', UploadPrekeysFrame, async ({ action: _action, requestId, ...upload }, ctx, deps) => ({
  type: 'PREKEYS_STORED',
  ...(await uploadKeys(deps, ctx.caller, upload)),
  ...(requestId ? { requestId } : {}),
}));
