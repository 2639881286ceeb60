/**
 * `$connect`: the device's route points at this connection from now on, and the device counts as awake:
 * once it goes offline again, the next message to it may wake it by push at once.
 */
import { connectionRoute } from '../runtime/websocket-route';
import { markDeviceAwake } from '../push/device-awake';
import { openSession } from './sessions';

export const handler = connectionRoute('connect', async (event, deps) => {
  const { authorizer, connectionId, connectedAt } = event.requestContext;
  const caller = { userId: authorizer.userId, deviceId: authorizer.deviceId };
  await Promise.all([openSession(deps, caller, { connectionId, connectedAt }), markDeviceAwake(deps, caller.userId, caller.deviceId)]);
});
