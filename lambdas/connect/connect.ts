/** `$connect`: the device's route points at this connection from now on. */
import { connectionRoute } from '../runtime/websocket-route';
import { openSession } from './sessions';

export const handler = connectionRoute('connect', async (event, deps) => {
  const { authorizer, connectionId, connectedAt } = event.requestContext;
  await openSession(deps, { userId: authorizer.userId, deviceId: authorizer.deviceId }, { connectionId, connectedAt });
});
