/**
 * `$disconnect`: the route goes, and the device record's connection, unless the device has connected
 * again meanwhile, and the user may go offline.
 */
import { connectionRoute } from '../runtime/websocket-route';
import { forgetConnection } from '../tables/devices';
import { closeSession } from './sessions';
import { deviceDisconnected } from '../presence/device-presence';
import { METRIC, recordMetric } from '../runtime/metrics';

export const handler = connectionRoute('disconnect', async (event, deps) => {
  const { authorizer, connectionId } = event.requestContext;
  const caller = { userId: authorizer.userId, deviceId: authorizer.deviceId };
  await Promise.all([closeSession(deps, caller, connectionId), forgetConnection(deps, caller.userId, caller.deviceId, connectionId)]);
  await deviceDisconnected(deps, caller, connectionId, deps.now());
  recordMetric(METRIC.connectionsClosed);
  return 200;
});
