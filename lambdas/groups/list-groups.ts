/** GET /v1/groups — the groups the caller is a member of. */
import { NoBody } from '../protocol/accounts-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { listMyGroups } from './membership';

export const handler = authorizedHttpRoute('listGroups', NoBody, async ({ caller }, deps) => ({
  status: 200,
  body: { groups: await listMyGroups(deps, caller) },
}));
