/** GET /v1/blocks: the users the caller blocked. */
import { NoBody } from '../protocol/accounts-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { blocksOf } from './social-settings';

export const handler = authorizedHttpRoute('listBlocks', NoBody, async ({ caller }, deps) => ({
  status: 200,
  body: { blocks: await blocksOf(deps, caller) },
}));
