/** PUT /v1/blocks/{userId}: blocks a user. */
import { NoBody } from '../protocol/accounts-api';
import { userIdParameter } from '../protocol/contacts-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { blockUser } from './social-settings';

export const handler = authorizedHttpRoute('blockUser', NoBody, async ({ caller, pathParameters }, deps) => {
  await blockUser(deps, caller, userIdParameter(pathParameters));
  return { status: 204 };
});
