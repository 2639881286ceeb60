/** `$connect` authorizer: admits the handshake only with valid device credentials. */
import { authenticateDevice } from '../accounts/device-auth';
import { webSocketAuthorizer } from '../functions';
import { headerValue, WebSocketAuthorizerEvent, type WebSocketAuthorizerResponse } from '../runtime/gateway-events';
import { defineHandler } from '../runtime/lambda-handler';

export const handler = defineHandler('webSocketAuthorizer', async (raw, deps): Promise<WebSocketAuthorizerResponse> => {
  const event = WebSocketAuthorizerEvent.parse(raw);
  const authorization = headerValue(event.headers, webSocketAuthorizer.identityHeader);
  // API Gateway answers this throw with 401; a Deny policy with 403.
  if (!authorization) throw new Error('Unauthorized');
  const caller = await authenticateDevice(deps, authorization);
  return {
    principalId: caller ? `${caller.userId}.${caller.deviceId}` : 'anonymous',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: caller ? 'Allow' : 'Deny', Resource: event.methodArn }],
    },
    ...(caller ? { context: { userId: caller.userId, deviceId: caller.deviceId } } : {}),
  };
});
