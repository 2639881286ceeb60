/** GET /v1/media/{mediaId} — a short-lived presigned download of a stored blob. */
import { NoBody } from '../protocol/accounts-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { grantDownload } from './downloads';
import { mediaIdOf } from './media-id';
import { chargeMedia } from './media-rate-limit';

export const handler = authorizedHttpRoute('getMediaDownload', NoBody, async ({ caller, pathParameters }, deps) => {
  const mediaId = mediaIdOf(pathParameters);
  await chargeMedia(deps, caller, 'download');
  return { status: 200, body: await grantDownload(deps, mediaId) };
});
