/** POST /v1/directory/lookup: which of these numbers have accounts, within the device's daily quota. */
import { LookupBody } from '../protocol/contacts-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { lookUpNumbers } from './directory';

export const handler = authorizedHttpRoute('lookupPhoneNumbers', LookupBody, async ({ caller, body }, deps) => ({
  status: 200,
  body: await lookUpNumbers(deps, caller, body.phoneNumbers),
}));
