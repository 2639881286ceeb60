/** GET /v1/presence/{userId}: the user's presence once, as the caller may see it. */
import { NoBody } from '../protocol/accounts-api';
import { userIdParameter } from '../protocol/contacts-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { presenceFor } from './subscriptions';

export const handler = authorizedHttpRoute('getPresence', NoBody, async ({ caller, pathParameters }, deps) => ({
  status: 200,
  body: await presenceFor(deps, caller, userIdParameter(pathParameters)),
}));
