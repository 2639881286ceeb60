/** PUT /v1/privacy: changes some of the caller's privacy settings, for all of the account's devices and live watchers at once. */
import { PrivacyBody } from '../protocol/contacts-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { changePrivacy } from './social-settings';

export const handler = authorizedHttpRoute('putPrivacy', PrivacyBody, async ({ caller, body }, deps) => ({
  status: 200,
  body: await changePrivacy(deps, caller, body),
}));
