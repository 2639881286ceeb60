/** POST /v1/media — a presigned upload for an encrypted blob, or the id of the same blob already stored. */
import { CreateMediaRequest } from '../protocol/media-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { METRIC, recordMetric } from '../runtime/metrics';
import { createUpload } from './uploads';

export const handler = authorizedHttpRoute('createMediaUpload', CreateMediaRequest, async ({ caller, body }, deps) => {
  const { created, answer } = await createUpload(deps, caller, body);
  recordMetric(METRIC.mediaUploads, 1, { outcome: created ? 'granted' : 'deduplicated' });
  return { status: created ? 201 : 200, body: answer };
});
