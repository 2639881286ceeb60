import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MakeClient } from '../clients';

export const makeDynamoDbClient: MakeClient<'db'> = (config, { instrument }) =>
  DynamoDBDocumentClient.from(instrument(new DynamoDBClient(config)), { marshallOptions: { removeUndefinedValues: true } });
