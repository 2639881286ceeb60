/** POST /v1/media/{mediaId}/parts — the parts S3 holds of a multipart upload, and URLs for the others asked for. */
import { MediaPartsRequest } from '../protocol/media-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { mediaIdOf } from './media-id';
import { grantParts } from './multipart-uploads';

export const handler = authorizedHttpRoute('requestMediaParts', MediaPartsRequest, async ({ caller, body, pathParameters }, deps) => ({
  status: 200,
  body: await grantParts(deps, caller, mediaIdOf(pathParameters), body),
}));
