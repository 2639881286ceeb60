/** The `conversations` table: per user, each conversation's last activity and unread messages. */
import { QueryCommand, type QueryCommandOutput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { tableName, type Deps } from '../runtime/deps';

export interface ConversationRecord {
  readonly userId: string;
  readonly conversationId: string;
  /** Epoch milliseconds of the newest message, sent or received. */
  readonly lastActivityAt: number;
  readonly lastMsgId: string;
  /** The received messages not read yet. */
  readonly unread?: Set<string>;
}

/**
 * Records a message in the user's conversation: newer activity moves it up, and a received message joins
 * the unread set. Both are idempotent, so a redelivered message changes nothing; an older message
 * arriving late does not move the conversation back.
 */
export async function recordActivity(
  deps: Deps,
  userId: string,
  conversationId: string,
  message: { msgId: string; serverTs: number; received: boolean },
): Promise<void> {
  const table = tableName(deps, 'conversations');
  const key = { userId, conversationId };
  try {
    await deps.clients.db.send(
      new UpdateCommand({
        TableName: table,
        Key: key,
        UpdateExpression: 'SET lastActivityAt = :ts, lastMsgId = :m',
        ConditionExpression: 'attribute_not_exists(lastActivityAt) OR lastActivityAt <= :ts',
        ExpressionAttributeValues: { ':ts': message.serverTs, ':m': message.msgId },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
  if (message.received) {
    await deps.clients.db.send(
      new UpdateCommand({
        TableName: table,
        Key: key,
        UpdateExpression: 'ADD unread :m',
        ExpressionAttributeValues: { ':m': new Set([message.msgId]) },
      }),
    );
  }
}

/** READ: nothing in the conversation is unread any more. */
export async function clearUnread(deps: Deps, userId: string, conversationId: string): Promise<void> {
  await deps.clients.db.send(
    new UpdateCommand({
      TableName: tableName(deps, 'conversations'),
      Key: { userId, conversationId },
      UpdateExpression: 'REMOVE unread',
    }),
  );
}

/** The user's conversations, newest activity first. */
export async function listConversations(deps: Deps, userId: string, limit: number): Promise<ConversationRecord[]> {
  const { Items = [] } = await deps.clients.db.send(
    new QueryCommand({
      TableName: tableName(deps, 'conversations'),
      IndexName: 'byActivity',
      KeyConditionExpression: 'userId = :u',
      ExpressionAttributeValues: { ':u': userId },
      ScanIndexForward: false,
      Limit: limit,
    }),
  );
  return Items as ConversationRecord[];
}

/** The ids of the user's conversations whose id starts with `prefix` (`group:` lists its groups). */
export async function conversationIdsStartingWith(deps: Deps, userId: string, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page: QueryCommandOutput = await deps.clients.db.send(
      new QueryCommand({
        TableName: tableName(deps, 'conversations'),
        KeyConditionExpression: 'userId = :u AND begins_with(conversationId, :p)',
        ExpressionAttributeValues: { ':u': userId, ':p': prefix },
        ProjectionExpression: 'conversationId',
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    ids.push(...(page.Items ?? []).map((item) => item.conversationId as string));
    start = page.LastEvaluatedKey;
  } while (start);
  return ids;
}
