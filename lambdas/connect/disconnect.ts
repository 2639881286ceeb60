/** `$disconnect`: the route goes, unless the device has connected again meanwhile. */
import { connectionRoute } from '../runtime/websocket-route';
import { closeSession } from './sessions';
import { METRIC, recordMetric } from '../runtime/metrics';

export const handler = connectionRoute('disconnect', async (event, deps) => {
  const { authorizer, connectionId } = event.requestContext;
  await closeSession(deps, { userId: authorizer.userId, deviceId: authorizer.deviceId }, connectionId);
  recordMetric(METRIC.connectionsClosed);
  return 200;
});
