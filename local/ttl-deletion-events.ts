/**
 * What a DynamoDB stream delivers for an item the TTL service deleted, built for an item the local TTL
 * sweeper deleted, so the same handler serves both (the shape parses with Powertools' DynamoDBStreamSchema).
 */
import { randomUUID } from 'node:crypto';
import { marshall } from '@aws-sdk/util-dynamodb';

export function ttlDeletionEvent(
  tableName: string,
  keyNames: readonly string[],
  item: Record<string, unknown>,
  now = Date.now(),
  region = 'us-east-1',
) {
  const keys = Object.fromEntries(keyNames.map((name) => [name, item[name]]));
  const oldImage = marshall(item, { removeUndefinedValues: true });
  return {
    Records: [
      {
        eventID: randomUUID().replace(/-/g, ''),
        eventName: 'REMOVE',
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: region,
        dynamodb: {
          ApproximateCreationDateTime: Math.floor(now / 1000),
          Keys: marshall(keys),
          OldImage: oldImage,
          SequenceNumber: String(now),
          SizeBytes: JSON.stringify(oldImage).length,
          StreamViewType: 'OLD_IMAGE',
        },
        // The mark of a deletion by the TTL service, which is what the handler filters on.
        userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
        eventSourceARN: `arn:aws:dynamodb:${region}:000000000000:table/${tableName}/stream/local`,
      },
    ],
  };
}
