import { DynamoDbStreamEvent } from '../../lambdas/runtime/stream-events';
import { ttlDeletionEvent } from '../../local/ttl-deletion-events';
import { AwsDynamoDbStreamEvent, parseAsAwsAndHandlers } from '../support/aws-event-schemas';

describe('ttlDeletionEvent', () => {
  const item = { device: 'u1#1', sk: '0001', msgId: 'm1', expiresAt: 1_800_000_000, frame: { type: 'PUSH', text: undefined } };

  it('builds a DynamoDB stream event that parses with the Powertools schema and the consumer\'s own', () => {
    const event = parseAsAwsAndHandlers(AwsDynamoDbStreamEvent, DynamoDbStreamEvent, ttlDeletionEvent('parley-deviceQueues', ['device', 'sk'], item));
    const [record] = event.Records;
    expect(record).toMatchObject({ eventName: 'REMOVE', userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } });
    // Unmarshalled as the Powertools schema does it, undefined attributes left out.
    expect(record!.dynamodb.OldImage).toEqual({ device: 'u1#1', sk: '0001', msgId: 'm1', expiresAt: 1_800_000_000, frame: { type: 'PUSH' } });
    expect(record!.dynamodb.OldImage).toEqual(AwsDynamoDbStreamEvent.parse(ttlDeletionEvent('t', ['device'], item)).Records[0]!.dynamodb.OldImage);
  });

  it('is refused when an image is not made of attribute values', () => {
    const event = ttlDeletionEvent('parley-deviceQueues', ['device'], item);
    (event.Records[0]!.dynamodb as { OldImage: unknown }).OldImage = { device: { BOGUS: 1 } };
    expect(DynamoDbStreamEvent.safeParse(event).success).toBe(false);
  });
});
