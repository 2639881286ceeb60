/** GET /v1/keys/self/count — how many one-time prekeys of each kind the device has left. */
import { NoBody } from '../protocol/accounts-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { poolOf } from '../tables/one-time-prekeys';
import { prekeyCounts } from './prekey-counts';

export const handler = authorizedHttpRoute('countPrekeys', NoBody, async ({ caller }, deps) => ({
  status: 200,
  body: await prekeyCounts(deps, poolOf(caller.userId, caller.deviceId)),
}));
