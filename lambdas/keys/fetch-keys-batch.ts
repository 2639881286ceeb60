/** POST /v1/keys/batch — bundles of up to 64 users' devices; users without any are listed in `missing`. */
import { KeysBatchBody } from '../protocol/keys-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { fetchBundles } from './bundles';

export const handler = authorizedHttpRoute('fetchKeysBatch', KeysBatchBody, async ({ caller, body }, deps) => ({
  status: 200,
  body: await fetchBundles(deps, caller, body.users),
}));
