/**
 * The `conversations` table: per user, each conversation's last activity, unread messages and the
 * preview of its newest message that the user's devices wrote (a ciphertext the server cannot read).
 */
import { QueryCommand, type QueryCommandOutput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ifConditionHolds } from './conditional-write';
import { tableName, type Deps } from '../runtime/deps';

export interface ConversationRecord {
  readonly userId: string;
  readonly conversationId: string;
  /** Epoch milliseconds of the newest message, sent or received. */
  readonly lastActivityAt: number;
  readonly lastMsgId: string;
  /** The received messages not read yet (1:1 conversations). */
  readonly unread?: Set<string>;
  /** In a group: the queue position of the last message read; the group's timeline counts the rest. */
  readonly lastReadPosition?: string;
  /** In a group: the position and version of the change that added the user; it gets nothing from before. */
  readonly joinedPosition?: string;
  readonly joinedVersion?: number;
  /** In a group the user was removed from (or left): the position of that change; it gets nothing after. */
  readonly leftPosition?: string;
  /** Ciphertext (base64) of the newest message's preview, for the user's devices only; of `previewMsgId`. */
  readonly preview?: string;
  readonly previewMsgId?: string;
  /** serverTs of `previewMsgId`: a preview of an older message never replaces it. */
  readonly previewServerTs?: number;
}

export interface Preview {
  readonly msgId: string;
  /** The message's serverTs, from the server's own records, never from a client. */
  readonly serverTs: number;
  readonly ciphertext: string;
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
  message: { msgId: string; serverTs: number; received: boolean; preview?: string },
): Promise<void> {
  const table = tableName(deps, 'conversations');
  const key = { userId, conversationId };
  await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: table,
        Key: key,
        UpdateExpression: 'SET lastActivityAt = :ts, lastMsgId = :m',
        ConditionExpression: 'attribute_not_exists(lastActivityAt) OR lastActivityAt <= :ts',
        ExpressionAttributeValues: { ':ts': message.serverTs, ':m': message.msgId },
      }),
    ),
  );
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
  if (message.preview) await recordPreview(deps, userId, conversationId, { msgId: message.msgId, serverTs: message.serverTs, ciphertext: message.preview });
}

/**
 * Stores the preview unless the stored one is of a message at least as new: a late or replayed preview
 * never replaces a newer one, and the first preview of a message stands (serverTs is unique within a
 * conversation, so an equal one is of the same message). Answers whether it was stored.
 */
export async function recordPreview(deps: Deps, userId: string, conversationId: string, preview: Preview): Promise<boolean> {
  const stored = await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'conversations'),
        Key: { userId, conversationId },
        UpdateExpression: 'SET preview = :c, previewMsgId = :m, previewServerTs = :ts',
        ConditionExpression: 'attribute_not_exists(previewServerTs) OR previewServerTs < :ts',
        ExpressionAttributeValues: { ':c': preview.ciphertext, ':m': preview.msgId, ':ts': preview.serverTs },
      }),
    ),
  );
  return stored !== undefined;
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

/** The user's conversations whose id starts with `prefix` (`group:` lists its groups). */
export async function conversationsStartingWith(deps: Deps, userId: string, prefix: string): Promise<ConversationRecord[]> {
  const rows: ConversationRecord[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page: QueryCommandOutput = await deps.clients.db.send(
      new QueryCommand({
        TableName: tableName(deps, 'conversations'),
        KeyConditionExpression: 'userId = :u AND begins_with(conversationId, :p)',
        ExpressionAttributeValues: { ':u': userId, ':p': prefix },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    rows.push(...((page.Items ?? []) as ConversationRecord[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return rows;
}

/**
 * A user joined a group conversation: it shows in the chat list from now, and what the group said
 * before counts as read (the user never got it).
 */
export async function markJoined(
  deps: Deps,
  userId: string,
  conversationId: string,
  change: { msgId: string; serverTs: number; position: string; version: number },
): Promise<void> {
  await deps.clients.db.send(
    new UpdateCommand({
      TableName: tableName(deps, 'conversations'),
      Key: { userId, conversationId },
      UpdateExpression: 'SET lastActivityAt = :ts, lastMsgId = :m, lastReadPosition = :p, joinedPosition = :p, joinedVersion = :v REMOVE leftPosition',
      ExpressionAttributeValues: { ':ts': change.serverTs, ':m': change.msgId, ':p': change.position, ':v': change.version },
    }),
  );
}

/**
 * The user left the group (or was removed) with this change: its devices read the group's timeline up to
 * here and no further. A later join moves the window (`markJoined`); a late repeat of an older removal
 * does not shorten a newer membership.
 */
export async function markLeft(deps: Deps, userId: string, conversationId: string, change: { msgId: string; serverTs: number; position: string }): Promise<void> {
  await updateIf(deps, { userId, conversationId }, {
    UpdateExpression: 'SET leftPosition = :p, lastActivityAt = :ts, lastMsgId = :m',
    ConditionExpression: 'attribute_not_exists(joinedPosition) OR joinedPosition < :p',
    ExpressionAttributeValues: { ':ts': change.serverTs, ':m': change.msgId, ':p': change.position },
  });
}

/** READ in a group: everything up to `position` is read; a late READ of an older message changes nothing. */
export async function advanceReadPosition(deps: Deps, userId: string, conversationId: string, position: string): Promise<void> {
  await updateIf(deps, { userId, conversationId }, {
    UpdateExpression: 'SET lastReadPosition = :p',
    ConditionExpression: 'attribute_exists(userId) AND (attribute_not_exists(lastReadPosition) OR lastReadPosition < :p)',
    ExpressionAttributeValues: { ':p': position },
  });
}

/** A conditional update of one row, which does nothing when its condition does not hold. */
async function updateIf(
  deps: Deps,
  key: { userId: string; conversationId: string },
  update: { UpdateExpression: string; ConditionExpression: string; ExpressionAttributeValues: Record<string, unknown> },
): Promise<void> {
  await ifConditionHolds(deps.clients.db.send(new UpdateCommand({ TableName: tableName(deps, 'conversations'), Key: key, ...update })));
}
