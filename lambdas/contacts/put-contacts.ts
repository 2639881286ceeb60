/** PUT /v1/contacts: replaces the caller's contacts, which presence privacy reads. */
import { ContactsBody } from '../protocol/contacts-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { replaceContacts } from './social-settings';

export const handler = authorizedHttpRoute('putContacts', ContactsBody, async ({ caller, body }, deps) => ({
  status: 200,
  body: { userIds: await replaceContacts(deps, caller, body.userIds) },
}));
