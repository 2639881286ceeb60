/** PUT /v1/keys/self — the device uploads its own public keys. */
import { KeysUpload } from '../protocol/keys-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { uploadKeys } from './upload';

export const handler = authorizedHttpRoute('uploadKeys', KeysUpload, async ({ caller, body }, deps) => ({
  status: 200,
  body: await uploadKeys(deps, caller, body),
}));
