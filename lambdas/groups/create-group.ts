/** POST /v1/groups — creates a group with the caller as its admin and tells every member's devices. */
import { CreateGroupBody } from '../protocol/groups-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { createNewGroup } from './membership';

export const handler = authorizedHttpRoute('createGroup', CreateGroupBody, async ({ caller, body }, deps) => ({
  status: 201,
  body: await createNewGroup(deps, caller, body),
}));
