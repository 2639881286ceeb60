/** DELETE /v1/devices/self/push — the calling device is no longer woken by push. */
import { NoBody } from '../protocol/accounts-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { unregisterPushToken } from './push-registration';

export const handler = authorizedHttpRoute('unregisterPushToken', NoBody, async ({ caller }, deps) => {
  await unregisterPushToken(deps, caller);
  return { status: 204 };
});
