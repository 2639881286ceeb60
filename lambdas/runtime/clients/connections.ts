import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import type { MakeClient } from '../clients';

export const makeConnectionsClient: MakeClient<'connections'> = (config, { instrument }) => {
  if (!config.endpoint) throw new Error('No @connections endpoint is configured');
  return instrument(new ApiGatewayManagementApiClient(config));
};
