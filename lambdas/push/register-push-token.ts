/** PUT /v1/devices/self/push — the calling device registers (or renews) its push token. */
import { PushTokenBody } from '../protocol/push-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { registerPushToken } from './push-registration';

export const handler = authorizedHttpRoute('registerPushToken', PushTokenBody, async ({ caller, body }, deps) => {
  await registerPushToken(deps, caller, body);
  return { status: 204 };
});
