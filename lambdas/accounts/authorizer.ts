/** HTTP API authorizer: admits requests only with valid device credentials (simple responses). */
import { httpAuthorizer } from '../functions';
import { headerValue, HttpAuthorizerEvent, type HttpAuthorizerResponse } from '../runtime/gateway-events';
import { defineHandler } from '../runtime/lambda-handler';
import { authenticateDevice } from './device-auth';

export const handler = defineHandler('httpAuthorizer', async (raw, deps): Promise<HttpAuthorizerResponse> => {
  const event = HttpAuthorizerEvent.parse(raw);
  const caller = await authenticateDevice(deps, headerValue(event.headers, httpAuthorizer.identityHeader));
  return caller ? { isAuthorized: true, context: { userId: caller.userId, deviceId: caller.deviceId } } : { isAuthorized: false };
});
