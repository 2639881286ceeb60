/** FETCH_KEYS — bundles of up to 8 users' devices, answered as KEYS. */
import { FetchKeysFrame } from '../protocol/frames';
import { webSocketRoute } from '../runtime/websocket-route';
import { fetchBundles } from './bundles';

export const handler = webSocketRoute('fetchKeys', FetchKeysFrame, async ({ users, requestId }, ctx, deps) => ({
  type: 'KEYS',
  ...(await fetchBundles(deps, ctx.caller, users)),
  ...(requestId ? { requestId } : {}),
}));
