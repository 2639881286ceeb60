/** DELETE /v1/devices/{deviceId} — removes a linked device and closes its connection. */
import { ParleyError } from '../protocol/errors';
import { NoBody } from '../protocol/accounts-api';
import { DeviceId } from '../protocol/credentials';
import { authorizedHttpRoute } from '../runtime/http-route';
import { removeDevice } from './device-management';

export const handler = authorizedHttpRoute('removeDevice', NoBody, async ({ caller, pathParameters }, deps) => {
  const deviceId = DeviceId.safeParse(pathParameters.deviceId);
  if (!deviceId.success) throw new ParleyError('BAD_REQUEST', 'deviceId: a device id is a whole number from 1 to 127');
  await removeDevice(deps, caller, deviceId.data);
  return { status: 204 };
});
