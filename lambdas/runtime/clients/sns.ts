import { SNSClient } from '@aws-sdk/client-sns';
import type { MakeClient } from '../clients';

export const makeSnsClient: MakeClient<'sns'> = (config, { instrument }) => instrument(new SNSClient(config));
