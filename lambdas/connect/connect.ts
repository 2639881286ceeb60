/**
 * `$connect`: the device's route points at this connection from now on, and the device counts as awake:
 * once it goes offline again, the next message to it may wake it by push at once. A connection that a
 * newer one of the same device replaced during its handshake is refused with 409.
 */
import { connectionRoute } from '../runtime/websocket-route';
import { markDeviceAwake } from '../push/device-awake';
import { openSession } from './sessions';
import { deviceConnected } from '../presence/device-presence';
import { METRIC, recordMetric } from '../runtime/metrics';

export const handler = connectionRoute('connect', async (event, deps) => {
  const { authorizer, connectionId, connectedAt } = event.requestContext;
  const caller = { userId: authorizer.userId, deviceId: authorizer.deviceId };
  const [session] = await Promise.all([
    openSession(deps, caller, { connectionId, connectedAt }),
    markDeviceAwake(deps, caller.userId, caller.deviceId),
  ]);
  // A non-2xx answer refuses the handshake: a newer connection of the device has already replaced this one.
  if (session === 'replaced') return 409;
  await deviceConnected(deps, caller, connectionId);
  recordMetric(METRIC.connectionsOpened);
  return 200;
});
