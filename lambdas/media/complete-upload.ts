/** POST /v1/media/{mediaId}/complete — assembles a multipart upload once S3 holds every part. */
import { NoBody } from '../protocol/accounts-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { mediaIdOf } from './media-id';
import { completeUpload } from './multipart-uploads';

export const handler = authorizedHttpRoute('completeMediaUpload', NoBody, async ({ caller, pathParameters }, deps) => ({
  status: 200,
  body: await completeUpload(deps, caller, mediaIdOf(pathParameters)),
}));
