/** POST /v1/devices/link — a new device presents a link token and joins the account. */
import { LinkDeviceBody } from '../protocol/accounts-api';
import { publicHttpRoute } from '../runtime/http-route';
import { linkDevice } from './device-linking';

export const handler = publicHttpRoute('linkDevice', LinkDeviceBody, async ({ body }, deps) => ({
  status: 201,
  body: await linkDevice(deps, body),
}));
