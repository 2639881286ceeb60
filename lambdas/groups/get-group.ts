/** GET /v1/groups/{groupId} — the group's name, version and members, for its members. */
import { NoBody } from '../protocol/accounts-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { groupIdOf } from './group-id';
import { readGroup } from './membership';

export const handler = authorizedHttpRoute('getGroup', NoBody, async ({ caller, pathParameters }, deps) => ({
  status: 200,
  body: await readGroup(deps, caller, groupIdOf(pathParameters)),
}));
