/** `$disconnect`: the route goes, unless the device has connected again meanwhile. */
import { connectionRoute } from '../runtime/websocket-route';
import { closeSession } from './sessions';

export const handler = connectionRoute('disconnect', async (event, deps) => {
  const { authorizer, connectionId } = event.requestContext;
  await closeSession(deps, { userId: authorizer.userId, deviceId: authorizer.deviceId }, connectionId);
  return 200;
});
