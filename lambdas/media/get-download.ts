/** GET /v1/media/{mediaId} — a short-lived presigned download of a stored blob. */
import { NoBody } from '../protocol/accounts-api';
import { ParleyError } from '../protocol/errors';
import { MediaId } from '../protocol/media-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { describeIssues } from '../runtime/websocket-route';
import { grantDownload } from './downloads';
import { chargeMedia } from './media-rate-limit';

export const handler = authorizedHttpRoute('getMediaDownload', NoBody, async ({ caller, pathParameters }, deps) => {
  const mediaId = MediaId.safeParse(pathParameters.mediaId);
  if (!mediaId.success) throw new ParleyError('BAD_REQUEST', describeIssues(mediaId.error));
  await chargeMedia(deps, caller, 'download');
  return { status: 200, body: await grantDownload(deps, mediaId.data) };
});
