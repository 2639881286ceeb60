/** The `blocks` table: one item per user a user blocked (partition the blocker, sort the blocked user). */
import { DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { tableName, type Deps } from '../runtime/deps';
import { batchGet } from './batch-requests';
import { putIfAbsent } from './put-if-absent';
import { queryAll } from './query-all';

export interface BlockRecord {
  readonly userId: string;
  readonly blockedUserId: string;
  /** Epoch milliseconds. */
  readonly blockedAt: number;
}

/** Whether `userId` blocked `other`: one read of one small item (strongly consistent, so a block holds at once). */
export async function hasBlocked(deps: Deps, userId: string, other: string): Promise<boolean> {
  const { Item } = await deps.clients.db.send(
    new GetCommand({ TableName: tableName(deps, 'blocks'), Key: { userId, blockedUserId: other }, ConsistentRead: true, ProjectionExpression: 'userId' }),
  );
  return Item !== undefined;
}

/** Which of these (blocker, blocked) pairs are blocks, in batches; answers `${blocker}>${blocked}` keys. */
export async function blocksAmong(deps: Deps, pairs: readonly { userId: string; blockedUserId: string }[]): Promise<Set<string>> {
  const found = await batchGet<BlockRecord>(deps, 'blocks', pairs, 'userId, blockedUserId');
  return new Set(found.map((block) => blockKey(block.userId, block.blockedUserId)));
}

export const blockKey = (userId: string, blockedUserId: string) => `${userId}>${blockedUserId}`;

export function pairOfBlockKey(key: string): { userId: string; blockedUserId: string } {
  const [userId, blockedUserId] = key.split('>') as [string, string];
  return { userId, blockedUserId };
}

/** Blocks a user; blocking again changes nothing (the first block's time stays). */
export async function putBlock(deps: Deps, block: BlockRecord): Promise<void> {
  await putIfAbsent(deps, 'blocks', { ...block });
}

export async function deleteBlock(deps: Deps, userId: string, blockedUserId: string): Promise<void> {
  await deps.clients.db.send(new DeleteCommand({ TableName: tableName(deps, 'blocks'), Key: { userId, blockedUserId } }));
}

/** Every user this user blocked, in userId order. */
export function listBlocks(deps: Deps, userId: string): Promise<BlockRecord[]> {
  return queryAll<BlockRecord>(deps, {
    TableName: tableName(deps, 'blocks'),
    KeyConditionExpression: 'userId = :u',
    ExpressionAttributeValues: { ':u': userId },
  });
}
