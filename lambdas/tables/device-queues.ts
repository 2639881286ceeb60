/**
 * The `deviceQueues` table: per device, what it has not acknowledged yet, in server order. Store first,
 * push second, delete on the device's acknowledgement.
 */
import { DeleteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { putIfAbsent } from './put-if-absent';
import { batchPut } from './batch-requests';
import type { QueuedFrame } from '../protocol/frames';
import { tableName, type Deps } from '../runtime/deps';

/** A frame as a queue holds it: with its place in the queue. */
export type QueueableFrame = QueuedFrame & { readonly cursor: string };

export interface QueuedItem {
  /** `${userId}#${deviceId}` */
  readonly device: string;
  /** `${serverTs, 13 digits}#${msgId}`: server order, and the same for a record delivered twice. */
  readonly position: string;
  readonly frame: QueueableFrame;
  /** Epoch seconds (the table's TTL attribute). */
  readonly expiresAt: number;
}

/** How long an undelivered message waits for its device. */
export const QUEUE_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export const queueOf = (userId: string, deviceId: number) => `${userId}#${deviceId}`;
export const positionOf = (serverTs: number, msgId: string) => `${String(serverTs).padStart(13, '0')}#${msgId}`;

/**
 * Epoch seconds until which a message stored at `serverTs` is kept for a device that has not read it: 30
 * days, or `expiresInSeconds` when that is sooner (a disappearing chat's message never outlives its timer).
 */
export const waitingExpiry = (serverTs: number, expiresInSeconds?: number) =>
  Math.ceil((serverTs + Math.min(QUEUE_TTL_MS, (expiresInSeconds ?? Infinity) * 1000)) / 1000);

/**
 * The queue item of a frame for a device: kept until acknowledged, or 30 days after the frame's time, or
 * `expiresInSeconds` after it when that is sooner (a disappearing chat's message never outlives its timer).
 * It holds no msgId of its own: DELIVERED names the cursor, the table's key, so no index by id is needed
 * (the table's `byMessage` index is sparse, and no item written now enters it).
 */
export const queueItemOf = (userId: string, deviceId: number, frame: QueueableFrame, expiresInSeconds?: number): QueuedItem => ({
  device: queueOf(userId, deviceId),
  position: frame.cursor,
  frame,
  expiresAt: waitingExpiry(frame.serverTs, expiresInSeconds),
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

/**
 * Deletes the device's item at `position` (the `cursor` its frame carried); answers the item, or nothing
 * when it was gone already (acknowledged before, expired, or never queued for this device). Deleting by
 * the table's own key is why the queue needs no index by msgId: every queue write is one write, not two.
 */
export async function takeQueued(deps: Deps, device: string, position: string): Promise<QueuedItem | undefined> {
  const { Attributes } = await deps.clients.db.send(
    new DeleteCommand({ TableName: tableName(deps, 'deviceQueues'), Key: { device, position }, ReturnValues: 'ALL_OLD' }),
  );
  return Attributes as QueuedItem | undefined;
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
