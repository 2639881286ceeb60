/** GET /v1/devices — the devices of the caller's account. */
import { NoBody } from '../protocol/accounts-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { listAccountDevices } from './device-management';

export const handler = authorizedHttpRoute('listDevices', NoBody, async ({ caller }, deps) => ({
  status: 200,
  body: { devices: await listAccountDevices(deps, caller) },
}));
