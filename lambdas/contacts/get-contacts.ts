/** GET /v1/contacts: the userIds the caller keeps as contacts. */
import { NoBody } from '../protocol/accounts-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { contactsOf } from './social-settings';

export const handler = authorizedHttpRoute('getContacts', NoBody, async ({ caller }, deps) => ({
  status: 200,
  body: { userIds: await contactsOf(deps, caller) },
}));
