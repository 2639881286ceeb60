/**
 * The fields of Lambda's Kinesis and DynamoDB stream events that Parley's consumers read, as our own small
 * schemas rather than the Powertools parser's (which cost each bundle the whole zod namespace, some 450 KB).
 * test/local/ checks that the events the local runtime builds parse with the Powertools schemas too.
 */
import * as z from '../protocol/zod';
import { unmarshall } from '@aws-sdk/util-dynamodb';

/** A Kinesis event: each record's data is the base64 of what was put, here decoded to text. */
export const KinesisStreamEvent = z.object({
  Records: z.array(
    z.looseObject({
      kinesis: z.looseObject({
        partitionKey: z.string(),
        sequenceNumber: z.string(),
        data: z.pipe(
          z.string(),
          z.transform((data: string) => Buffer.from(data, 'base64').toString('utf8')),
        ),
      }),
    }),
  ),
});
export type KinesisStreamEvent = z.infer<typeof KinesisStreamEvent>;

/** A DynamoDB item as a stream carries it (attribute values), unmarshalled to plain values. */
const StreamImage = z.pipe(
  z.record(z.string(), z.record(z.string(), z.unknown())),
  z.transform((image: Record<string, Record<string, unknown>>, ctx) => {
    try {
      return unmarshall(image as unknown as Parameters<typeof unmarshall>[0]);
    } catch {
      ctx.issues.push({ code: 'custom', message: 'Could not unmarshall the image', input: image });
      return z.NEVER;
    }
  }),
);

/** A DynamoDB stream event, with each record's old image (when the stream view has one) unmarshalled. */
export const DynamoDbStreamEvent = z.object({
  Records: z.array(
    z.looseObject({
      eventName: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
      dynamodb: z.looseObject({ OldImage: z.optional(StreamImage) }),
      /** Set on deletions by the TTL service: `{ type: 'Service', principalId: 'dynamodb.amazonaws.com' }`. */
      userIdentity: z.optional(z.looseObject({ type: z.string(), principalId: z.string() })),
    }),
  ),
});
export type DynamoDbStreamEvent = z.infer<typeof DynamoDbStreamEvent>;

/** Only deletions by DynamoDB's TTL service are expiries; a table's other deletions are the handlers' own. */
const isTtlDeletion = (record: DynamoDbStreamEvent['Records'][number]) =>
  record.eventName === 'REMOVE' && record.userIdentity?.principalId === 'dynamodb.amazonaws.com';

/** The items the TTL service deleted, as they were, from the stream event of a table with an `onExpiry`. */
export function ttlDeletedItems<T>(rawEvent: unknown): T[] {
  const { Records } = DynamoDbStreamEvent.parse(rawEvent);
  return Records.filter(isTtlDeletion).map((record) => record.dynamodb.OldImage as unknown as T);
}
