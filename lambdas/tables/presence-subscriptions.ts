/**
 * The `presenceSubscriptions` table: which devices watch a user's presence, through which connection.
 * Partition the watched user, sort the watching device, so that a change is one query, never a scan.
 */
import { BatchWriteCommand, DeleteCommand, QueryCommand, type BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import { tableName, type Deps } from '../runtime/deps';
import { mapConcurrently } from '../runtime/concurrency';
import { ifConditionHolds } from './conditional-write';

export interface PresenceSubscription {
  /** The watched user. */
  readonly userId: string;
  /** `<userId>#<deviceId>` of the watching device. */
  readonly subscriber: string;
  readonly subscriberUserId: string;
  readonly connectionId: string;
  /** Epoch seconds: when the watching connection can live no longer (the table's TTL attribute). */
  readonly expiresAt: number;
}

export const subscriberKey = (userId: string, deviceId: number) => `${userId}#${deviceId}`;

const WRITES_PER_CALL = 25;

/** Writes and deletes subscriptions, 25 to a call (DynamoDB's BatchWriteItem), retrying what is left unprocessed. */
export async function changeSubscriptions(
  deps: Deps,
  put: readonly PresenceSubscription[],
  remove: readonly Pick<PresenceSubscription, 'userId' | 'subscriber'>[],
): Promise<void> {
  const name = tableName(deps, 'presenceSubscriptions');
  const requests = [
    ...put.map((Item) => ({ PutRequest: { Item: { ...Item } } })),
    ...remove.map(({ userId, subscriber }) => ({ DeleteRequest: { Key: { userId, subscriber } } })),
  ];
  const calls = Array.from({ length: Math.ceil(requests.length / WRITES_PER_CALL) }, (_, i) => requests.slice(i * WRITES_PER_CALL, (i + 1) * WRITES_PER_CALL));
  await mapConcurrently(calls, 8, async (chunk) => {
    let pending: BatchWriteCommandOutput['UnprocessedItems'] = { [name]: chunk };
    while (pending?.[name]?.length) pending = (await deps.clients.db.send(new BatchWriteCommand({ RequestItems: pending }))).UnprocessedItems;
  });
}

/**
 * The live subscriptions to a user's presence, at most `limit` of them: the bound of one change's fan-out
 * (a query reads up to 1 MB a page; 1,000 items of about 150 bytes are one page).
 */
export async function subscriptionsTo(deps: Deps, userId: string, limit: number): Promise<PresenceSubscription[]> {
  const { Items } = await deps.clients.db.send(
    new QueryCommand({
      TableName: tableName(deps, 'presenceSubscriptions'),
      KeyConditionExpression: 'userId = :u',
      FilterExpression: 'expiresAt > :now',
      ExpressionAttributeValues: { ':u': userId, ':now': Math.floor(deps.now() / 1000) },
      Limit: limit,
    }),
  );
  return (Items ?? []) as PresenceSubscription[];
}

/** Forgets a subscription whose connection is gone, unless the device has subscribed again through another. */
export async function removeGoneSubscription(deps: Deps, subscription: PresenceSubscription): Promise<void> {
  await ifConditionHolds(
    deps.clients.db.send(
      new DeleteCommand({
        TableName: tableName(deps, 'presenceSubscriptions'),
        Key: { userId: subscription.userId, subscriber: subscription.subscriber },
        ConditionExpression: 'connectionId = :c',
        ExpressionAttributeValues: { ':c': subscription.connectionId },
      }),
    ),
  );
}
