/** POST /v1/devices/link-token — a signed-in device gets a token to show as a QR code. */
import { NoBody } from '../protocol/accounts-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { createLinkToken } from './device-linking';

export const handler = authorizedHttpRoute('createLinkToken', NoBody, async ({ caller }, deps) => ({
  status: 201,
  body: await createLinkToken(deps, caller),
}));
