/** HEARTBEAT: keeps the device's route alive; clients send one every few minutes. */
import { HeartbeatFrame } from '../protocol/frames';
import { webSocketRoute } from '../runtime/websocket-route';
import { refreshSession } from './sessions';

export const handler = webSocketRoute('heartbeat', HeartbeatFrame, async (_frame, ctx, deps) => {
  const { userId, deviceId } = ctx.caller;
  const routeExpiresAt = await refreshSession(deps, { userId, deviceId }, ctx.connection);
  return { type: 'HEARTBEAT_ACK', routeExpiresAt };
  // Its conditional refresh is the session check: a replaced connection is closed there.
}, { checksSession: false });
