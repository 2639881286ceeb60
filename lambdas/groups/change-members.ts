/** POST /v1/groups/{groupId}/members — adds, removes (or leaves) and makes admins, as one change. */
import { ChangeMembersBody } from '../protocol/groups-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { groupIdOf } from './group-id';
import { changeMembers } from './membership';

export const handler = authorizedHttpRoute('changeGroupMembers', ChangeMembersBody, async ({ caller, body, pathParameters }, deps) => ({
  status: 200,
  body: await changeMembers(deps, caller, groupIdOf(pathParameters), body),
}));
