/** GET /v1/keys/{userId}?deviceIds=2,3 — a bundle per device of one user, taking one-time prekeys. */
import * as z from '../protocol/zod';
import { NoBody } from '../protocol/accounts-api';
import { ParleyError } from '../protocol/errors';
import { DeviceIdsQuery } from '../protocol/keys-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { describeIssues } from '../runtime/websocket-route';
import { fetchBundles } from './bundles';

const Target = z.strictObject({ userId: z.uuid('userId: a user id (UUID)'), deviceIds: z.optional(DeviceIdsQuery) });

export const handler = authorizedHttpRoute('fetchUserKeys', NoBody, async ({ caller, pathParameters, queryParameters }, deps) => {
  const target = Target.safeParse({ userId: pathParameters.userId, deviceIds: queryParameters.deviceIds });
  if (!target.success) throw new ParleyError('BAD_REQUEST', describeIssues(target.error));
  const { bundles } = await fetchBundles(deps, caller, [target.data]);
  if (!bundles[0]) throw new ParleyError('NOT_FOUND', 'The user has no account or no device with keys');
  return { status: 200, body: bundles[0] };
});
