/**
 * The `deviceQueues` table: per device, what it has not acknowledged yet, in server order. Store first,
 * push second, delete on the device's acknowledgement.
 */
import { DeleteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { putIfAbsent } from './put-if-absent';
import { batchPut } from './batch-requests';
import type { QueuedFrame } from '../protocol/frames';
import { tableName, type Deps } from '../runtime/deps';

export interface QueuedItem {
  /** `${userId}#${deviceId}` */
  readonly device: string;
  /** `${serverTs, 13 digits}#${msgId}`: server order, and the same for a record delivered twice. */
  readonly position: string;
  /** The message's msgId, or the receipt's receiptId: what DELIVERED names. */
  readonly msgId: string;
  readonly frame: QueuedFrame;
  /** Epoch seconds (the table's TTL attribute). */
  readonly expiresAt: number;
}

/** How long an undelivered message waits for its device. */
export const QUEUE_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export const queueOf = (userId: string, deviceId: number) => `${userId}#${deviceId}`;
export const positionOf = (serverTs: number, msgId: string) => `${String(serverTs).padStart(13, '0')}#${msgId}`;

/** The queue item of a frame for a device: kept until acknowledged, or 30 days after the frame's time. */
export const queueItemOf = (userId: string, deviceId: number, msgId: string, frame: QueuedFrame): QueuedItem => ({
  device: queueOf(userId, deviceId),
  position: frame.cursor,
  msgId,
  frame,
  expiresAt: Math.ceil((frame.serverTs + QUEUE_TTL_MS) / 1000),
});

/** Queues the item unless it is queued already (a redelivered stream batch): 'duplicate' then. */
export async function enqueue(deps: Deps, item: QueuedItem): Promise<'queued' | 'duplicate'> {
  return (await putIfAbsent(deps, 'deviceQueues', { ...item })) ? 'queued' : 'duplicate';
}

/**
 * Queues many items at once, for a group's fan-out. An item's content is fixed by its key (the same
 * record makes the same item), so a retried batch overwrites items with themselves.
 */
export async function enqueueAll(deps: Deps, items: readonly QueuedItem[]): Promise<void> {
  await batchPut(deps, 'deviceQueues', items.map((item) => ({ ...item })));
}

/**
 * Up to `limit` items after `after`, in order; expired ones are skipped (DynamoDB deletes them lazily).
 * `next` is where the read stopped when more may follow, even if every item read had expired.
 */
export async function readQueue(
  deps: Deps,
  device: string,
  after: string | undefined,
  limit: number,
): Promise<{ items: QueuedItem[]; next?: string }> {
  const { Items = [], LastEvaluatedKey } = await deps.clients.db.send(
    new QueryCommand({
      TableName: tableName(deps, 'deviceQueues'),
      KeyConditionExpression: after ? 'device = :d AND #position > :after' : 'device = :d',
      ...(after ? { ExpressionAttributeNames: { '#position': 'position' } } : {}),
      ExpressionAttributeValues: { ':d': device, ...(after ? { ':after': after } : {}) },
      ConsistentRead: true,
      Limit: limit,
    }),
  );
  const nowSeconds = deps.now() / 1000;
  const items = (Items as QueuedItem[]).filter((item) => item.expiresAt > nowSeconds);
  return { items, ...(LastEvaluatedKey ? { next: (LastEvaluatedKey as Pick<QueuedItem, 'position'>).position } : {}) };
}

/** The device's queued items for this message or receipt id (normally one). */
export async function findQueued(deps: Deps, device: string, msgId: string): Promise<QueuedItem[]> {
  const { Items = [] } = await deps.clients.db.send(
    new QueryCommand({
      TableName: tableName(deps, 'deviceQueues'),
      IndexName: 'byMessage',
      KeyConditionExpression: 'device = :d AND msgId = :m',
      ExpressionAttributeValues: { ':d': device, ':m': msgId },
      ConsistentRead: true,
    }),
  );
  return Items as QueuedItem[];
}

export async function deleteQueued(deps: Deps, item: Pick<QueuedItem, 'device' | 'position'>): Promise<void> {
  await deps.clients.db.send(
    new DeleteCommand({ TableName: tableName(deps, 'deviceQueues'), Key: { device: item.device, position: item.position } }),
  );
}

/**
 * Empties a device's queue: a device id given to a newly linked or re-registered device must not hand it
 * ciphertext meant for the device that had the id before (it could not decrypt it anyway).
 */
export async function clearQueue(deps: Deps, device: string): Promise<void> {
  let after: Record<string, unknown> | undefined;
  do {
    const page = await deps.clients.db.send(
      new QueryCommand({
        TableName: tableName(deps, 'deviceQueues'),
        KeyConditionExpression: 'device = :d',
        ExpressionAttributeValues: { ':d': device },
        // `position` is a reserved word in DynamoDB expressions.
        ProjectionExpression: 'device, #position',
        ExpressionAttributeNames: { '#position': 'position' },
        ExclusiveStartKey: after,
      }),
    );
    await Promise.all(
      (page.Items ?? []).map((key) => deps.clients.db.send(new DeleteCommand({ TableName: tableName(deps, 'deviceQueues'), Key: key }))),
    );
    after = page.LastEvaluatedKey;
  } while (after);
}
