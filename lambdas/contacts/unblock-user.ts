/** DELETE /v1/blocks/{userId}: unblocks a user. */
import { NoBody } from '../protocol/accounts-api';
import { userIdParameter } from '../protocol/contacts-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { unblockUser } from './social-settings';

export const handler = authorizedHttpRoute('unblockUser', NoBody, async ({ caller, pathParameters }, deps) => {
  await unblockUser(deps, caller, userIdParameter(pathParameters));
  return { status: 204 };
});
