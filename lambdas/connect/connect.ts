/**
 * `$connect`: the device's route points at this connection from now on, and its device record says it
 * may be live (so group fan-outs read its route) and that it was awake: once it goes offline again, the
 * next message to it may wake it by push at once. A connection that a newer one of the same device
 * replaced during its handshake is refused with 409. If the device record cannot be written the
 * connection is refused too (the client connects again): group messages would not be pushed to it.
 */
import { connectionRoute } from '../runtime/websocket-route';
import { webSocketLimits } from '../protocol/limits';
import { recordConnection } from '../tables/devices';
import { openSession } from './sessions';
import { deviceConnected } from '../presence/device-presence';
import { METRIC, recordMetric } from '../runtime/metrics';

export const handler = connectionRoute('connect', async (event, deps) => {
  const { authorizer, connectionId, connectedAt } = event.requestContext;
  const caller = { userId: authorizer.userId, deviceId: authorizer.deviceId };
  const now = deps.now();
  const [session] = await Promise.all([
    openSession(deps, caller, { connectionId, connectedAt }),
    // On the functions' clock, which the wake-up claims and fan-outs compare these with, not the gateway's.
    recordConnection(deps, caller.userId, caller.deviceId, { connectionId, connectedAt: now, until: now + webSocketLimits.maxConnectionMs }),
  ]);
  // A non-2xx answer refuses the handshake: a newer connection of the device has already replaced this one.
  if (session === 'replaced') return 409;
  await deviceConnected(deps, caller, connectionId);
  recordMetric(METRIC.connectionsOpened);
  return 200;
});
