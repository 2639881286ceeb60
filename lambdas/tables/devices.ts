/** The `devices` table: the devices of each account and the salted hash of each device's secret. */
import { BatchGetCommand, type BatchGetCommandOutput, DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { putIfAbsent } from './put-if-absent';
import { tableName, type Deps } from '../runtime/deps';

export interface DeviceRecord {
  readonly userId: string;
  readonly deviceId: number;
  readonly name: string;
  /** The primary device registered the account; the others were linked by it. */
  readonly primary: boolean;
  readonly secretSalt: string;
  readonly secretHash: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
}

export async function getDevice(deps: Deps, userId: string, deviceId: number): Promise<DeviceRecord | undefined> {
  const { Item } = await deps.clients.db.send(
    new GetCommand({ TableName: tableName(deps, 'devices'), Key: { userId, deviceId }, ConsistentRead: true }),
  );
  return Item as DeviceRecord | undefined;
}

export async function listDevices(deps: Deps, userId: string): Promise<DeviceRecord[]> {
  const { Items } = await deps.clients.db.send(
    new QueryCommand({
      TableName: tableName(deps, 'devices'),
      KeyConditionExpression: 'userId = :u',
      ExpressionAttributeValues: { ':u': userId },
      ConsistentRead: true,
    }),
  );
  return (Items ?? []) as DeviceRecord[];
}

/** Keys per BatchGetItem, DynamoDB's limit. */
const BATCH_GET_KEYS = 100;

/** Which of `userIds` have a device `deviceId` (every account has its primary device). */
export async function usersWithDevice(deps: Deps, userIds: readonly string[], deviceId: number): Promise<Set<string>> {
  const table = tableName(deps, 'devices');
  const found = new Set<string>();
  for (let i = 0; i < userIds.length; i += BATCH_GET_KEYS) {
    let keys: Record<string, unknown>[] | undefined = userIds.slice(i, i + BATCH_GET_KEYS).map((userId) => ({ userId, deviceId }));
    // DynamoDB may leave keys unprocessed under load; ask again for those.
    while (keys?.length) {
      const answer: BatchGetCommandOutput = await deps.clients.db.send(
        new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ProjectionExpression: 'userId' } } }),
      );
      const { Responses, UnprocessedKeys } = answer;
      for (const item of Responses?.[table] ?? []) found.add(item.userId as string);
      keys = UnprocessedKeys?.[table]?.Keys;
    }
  }
  return found;
}

/** Adds a device under an id nobody holds; false when the id is taken (a concurrent link won it). */
export async function addDevice(deps: Deps, device: DeviceRecord): Promise<boolean> {
  return putIfAbsent(deps, 'devices', { ...device });
}

/** Writes a device whatever was there: a re-registration replaces the primary device. */
export async function putDevice(deps: Deps, device: DeviceRecord): Promise<void> {
  await deps.clients.db.send(new PutCommand({ TableName: tableName(deps, 'devices'), Item: device }));
}

export async function deleteDevice(deps: Deps, userId: string, deviceId: number): Promise<void> {
  await deps.clients.db.send(new DeleteCommand({ TableName: tableName(deps, 'devices'), Key: { userId, deviceId } }));
}
