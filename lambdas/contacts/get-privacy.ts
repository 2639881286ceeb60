/** GET /v1/privacy: the caller's privacy settings. */
import { NoBody } from '../protocol/accounts-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { privacyOf } from './social-settings';

export const handler = authorizedHttpRoute('getPrivacy', NoBody, async ({ caller }, deps) => ({
  status: 200,
  body: await privacyOf(deps, caller),
}));
