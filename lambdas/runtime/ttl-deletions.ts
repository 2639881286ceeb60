/** A table's DynamoDB stream, as the functions with an `onExpiry` table receive it. */
import { z } from 'zod';
import { DynamoDBStreamSchema } from '@aws-lambda-powertools/parser/schemas';

/** Only deletions by DynamoDB's TTL service are expiries; the table's other deletions are the handlers' own. */
const isTtlDeletion = (record: z.infer<typeof DynamoDBStreamSchema>['Records'][number]) =>
  record.eventName === 'REMOVE' && record.userIdentity?.principalId === 'dynamodb.amazonaws.com';

/** The items the TTL service deleted, as they were, from a stream event. */
export function ttlDeletedItems<T>(rawEvent: unknown): T[] {
  const { Records } = DynamoDBStreamSchema.parse(rawEvent);
  return Records.filter(isTtlDeletion).map((record) => record.dynamodb.OldImage as unknown as T);
}
