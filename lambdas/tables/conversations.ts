/**
 * The `conversations` table: per user, each conversation's last activity, unread messages and the
 * preview of its newest message that the user's devices wrote (a ciphertext the server cannot read).
 *
 * Activity is stored as `activityAt`, not as `lastActivityAt`, the key of the table's `byActivity` index:
 * that index projects every attribute, so each write to a row in it was a second write (two when the
 * activity moved), on every message. The index is sparse, so a row leaves it at its next write (which
 * removes `lastActivityAt`); a chat list reads the user's partition and sorts it instead (a few hundred
 * rows at most, read when a device asks for the list, not per message). An index cannot be dropped from a
 * deployed table in place, so it stays defined, empty of every row written since.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { queryAll } from './query-all';
import type { TableRead } from './batch-requests';
import { ifConditionHolds } from './conditional-write';
import { tableName, type Deps } from '../runtime/deps';

/** A row as stored: its activity under either name (`lastActivityAt` on rows not written since the index was left). */
type StoredConversation = Omit<ConversationRecord, 'lastActivityAt'> & { activityAt?: number; lastActivityAt?: number };

const recordOf = ({ activityAt, lastActivityAt, ...row }: StoredConversation): ConversationRecord | undefined => {
  const at = activityAt ?? lastActivityAt;
  return at === undefined ? undefined : { ...row, lastActivityAt: at };
};

/** A newer activity than the row's: whichever name the row keeps it under. */
const NEWER_ACTIVITY =
  '(attribute_not_exists(activityAt) AND (attribute_not_exists(lastActivityAt) OR lastActivityAt < :ts)) OR activityAt < :ts';

export interface ConversationRecord {
  readonly userId: string;
  readonly conversationId: string;
  /** Epoch milliseconds of the newest message, sent or received. */
  readonly lastActivityAt: number;
  readonly lastMsgId: string;
  /** How many received messages are not read yet (1:1 conversations). */
  readonly unreadCount?: number;
  /** The same as a set of msgIds, as rows written before the count kept it. */
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
 * Records a message in the user's conversation in one write: it becomes the last activity, a received
 * message counts as unread, the sender's own preview is stored. Only a message newer than the last one
 * recorded changes anything, so a redelivered message is neither counted twice nor moves the chat back;
 * a conversation's records reach the fanout in order, so only a late redrive of an old message goes
 * uncounted (its preview, if it had one, still stands unless a newer one does).
 */
export async function recordActivity(
  deps: Deps,
  userId: string,
  conversationId: string,
  message: { msgId: string; serverTs: number; received: boolean; preview?: string },
): Promise<void> {
  const { msgId, serverTs, received, preview } = message;
  const recorded = await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'conversations'),
        Key: { userId, conversationId },
        UpdateExpression:
          'SET activityAt = :ts, lastMsgId = :m' +
          (preview ? ', preview = :c, previewMsgId = :m, previewServerTs = :ts' : '') +
          ' REMOVE lastActivityAt' +
          (received ? ' ADD unreadCount :one' : ''),
        ConditionExpression: NEWER_ACTIVITY,
        ExpressionAttributeValues: { ':ts': serverTs, ':m': msgId, ...(preview ? { ':c': preview } : {}), ...(received ? { ':one': 1 } : {}) },
      }),
    ),
  );
  if (recorded === undefined && preview) await recordPreview(deps, userId, conversationId, { msgId, serverTs, ciphertext: preview });
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

/**
 * A message was deleted for everyone: its preview leaves the user's row, and when it was the newest
 * message and still unread (`uncount`: the recipient's row), it no longer counts as unread. An older
 * revoked message stays counted until the next READ: the row keeps a count, not which messages it counts.
 * Idempotent: the row remembers the message it uncounted, so a redelivered revoke uncounts nothing more.
 */
export async function forgetRevoked(deps: Deps, userId: string, conversationId: string, msgId: string, uncount: boolean): Promise<void> {
  const update = (UpdateExpression: string, ConditionExpression: string, values: Record<string, unknown>) =>
    ifConditionHolds(
      deps.clients.db.send(
        new UpdateCommand({
          TableName: tableName(deps, 'conversations'),
          Key: { userId, conversationId },
          UpdateExpression,
          ConditionExpression,
          ExpressionAttributeValues: { ':m': msgId, ...values },
        }),
      ),
    );
  await Promise.all([
    update('REMOVE preview, previewMsgId, previewServerTs', 'previewMsgId = :m', {}),
    ...(uncount
      ? [
          update('ADD unreadCount :minusOne SET uncountedMsgId = :m', 'lastMsgId = :m AND unreadCount > :zero AND (attribute_not_exists(uncountedMsgId) OR uncountedMsgId <> :m)', {
            ':minusOne': -1,
            ':zero': 0,
          }),
        ]
      : []),
  ]);
}

/** READ: nothing in the conversation is unread any more. */
export async function clearUnread(deps: Deps, userId: string, conversationId: string): Promise<void> {
  await deps.clients.db.send(
    new UpdateCommand({
      TableName: tableName(deps, 'conversations'),
      Key: { userId, conversationId },
      UpdateExpression: 'REMOVE unreadCount, unread',
    }),
  );
}

/** The user's conversations, newest activity first. */
export async function listConversations(deps: Deps, userId: string, limit: number): Promise<ConversationRecord[]> {
  const rows = (await partitionRows(deps, userId)).flatMap((row) => recordOf(row) ?? []);
  return rows.sort((a, b) => b.lastActivityAt - a.lastActivityAt).slice(0, limit);
}

/** Every row of the user's partition whose conversation id starts with `prefix`. */
const partitionRows = (deps: Deps, userId: string, prefix?: string, consistent = false) =>
  queryAll<StoredConversation>(deps, {
    TableName: tableName(deps, 'conversations'),
    KeyConditionExpression: prefix ? 'userId = :u AND begins_with(conversationId, :p)' : 'userId = :u',
    ExpressionAttributeValues: { ':u': userId, ...(prefix ? { ':p': prefix } : {}) },
    ...(consistent ? { ConsistentRead: true } : {}),
  });

/**
 * The user's conversations whose id starts with `prefix` (`group:` lists its groups); `consistent` to see
 * every row written before (a device's link must find every group whose joining is recorded).
 */
export async function conversationsStartingWith(deps: Deps, userId: string, prefix: string, consistent = false): Promise<ConversationRecord[]> {
  return (await partitionRows(deps, userId, prefix, consistent)).flatMap((row) => recordOf(row) ?? []);
}

/** What a group row says of the window of the group's timeline its user's devices may read, and whether it has activity (`recordOf`). */
const WINDOW_ATTRIBUTES = ['conversationId', 'activityAt', 'lastActivityAt', 'joinedPosition', 'joinedVersion', 'leftPosition'];

/**
 * The read of the user's rows of these group conversations, as `conversationsStartingWith` answers them
 * (those with activity), by key: a DELIVERED names the groups it acknowledges, and the rows of the user's
 * other groups are not read (a query of them all is billed by their size). Eventually consistent: a row
 * is written when its user joins, long before a device acknowledges anything in the group.
 */
export const groupWindowRowsRead = (userId: string, conversationIds: readonly string[]): TableRead<GroupWindowRow[]> => ({
  table: 'conversations',
  keys: [...new Set(conversationIds)].map((conversationId) => ({ userId, conversationId })),
  projection: WINDOW_ATTRIBUTES,
  answer: (rows) => (rows as StoredConversation[]).flatMap((row) => recordOf(row) ?? []),
});

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
      UpdateExpression: 'SET activityAt = :ts, lastMsgId = :m, lastReadPosition = :p, joinedPosition = :p, joinedVersion = :v REMOVE lastActivityAt, leftPosition',
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
    UpdateExpression: 'SET leftPosition = :p, activityAt = :ts, lastMsgId = :m REMOVE lastActivityAt',
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

/**
 * How far a 1:1 conversation's messages from this row's user have reached the peer: one state per
 * conversation, kept on the sender's row, instead of a queued receipt per message and device.
 */
export interface DeliveryState {
  readonly conversationId: string;
  /** serverTs of the newest message of this user that a device of the peer stored. */
  readonly deliveredUpTo: number;
  /** The messages whose acknowledgement last advanced the state. */
  readonly deliveredMsgIds: string[];
  /** The peer's device that acknowledged them. */
  readonly deliveredBy: { userId: string; deviceId: number };
  /** When the state last advanced: epoch ms of the server. */
  readonly deliveredAt: number;
}

/**
 * Moves the user's delivery state forward; answers false when it already stands at or past
 * `deliveredUpTo` (another device of the peer, or a retry, got there first), and nothing changes.
 */
export async function advanceDelivered(deps: Deps, userId: string, state: DeliveryState): Promise<boolean> {
  const advanced = await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'conversations'),
        Key: { userId, conversationId: state.conversationId },
        UpdateExpression: 'SET deliveredUpTo = :upTo, deliveredMsgIds = :m, deliveredBy = :by, deliveredAt = :at',
        ConditionExpression: 'attribute_not_exists(deliveredUpTo) OR deliveredUpTo < :upTo',
        ExpressionAttributeValues: { ':upTo': state.deliveredUpTo, ':m': state.deliveredMsgIds, ':by': state.deliveredBy, ':at': state.deliveredAt },
      }),
    ),
  );
  return advanced !== undefined;
}

/** A group row as SYNC reads it: the window of the group's timeline the user's devices may read. */
export type GroupWindowRow = Pick<ConversationRecord, 'conversationId' | 'joinedPosition' | 'joinedVersion' | 'leftPosition'>;

/** What a SYNC reads of the user's rows: its groups' windows and every 1:1 delivery state. */
export interface SyncRows {
  readonly groups: GroupWindowRow[];
  readonly deliveryStates: DeliveryState[];
}

/** The attributes SYNC reads (not the previews: a chat list's, and the largest part of a row). */
const SYNC_ATTRIBUTES = ['conversationId', 'activityAt', 'lastActivityAt', 'joinedPosition', 'joinedVersion', 'leftPosition', 'deliveredUpTo', 'deliveredMsgIds', 'deliveredBy', 'deliveredAt'];

/**
 * The user's group windows (the rows of conversations starting with `groupPrefix`) and delivery states,
 * from one strongly consistent read of its partition: a SYNC needs both, and they are rows of one partition
 * (a chat list is small; the read is billed by the rows' size, not by the attributes projected).
 * Consistent, as a state advanced just before this device connected was pushed to no connection of it.
 */
export async function readSyncRows(deps: Deps, userId: string, groupPrefix: string): Promise<SyncRows> {
  const rows = await queryAll<StoredConversation & Partial<DeliveryState>>(deps, {
    TableName: tableName(deps, 'conversations'),
    KeyConditionExpression: 'userId = :u',
    ProjectionExpression: SYNC_ATTRIBUTES.map((_, i) => `#a${i}`).join(', '),
    ExpressionAttributeNames: Object.fromEntries(SYNC_ATTRIBUTES.map((name, i) => [`#a${i}`, name])),
    ExpressionAttributeValues: { ':u': userId },
    ConsistentRead: true,
  });
  return {
    // The rows `conversationsStartingWith` answers: those with activity, under either name.
    groups: rows.filter((row) => row.conversationId.startsWith(groupPrefix)).flatMap((row) => recordOf(row) ?? []),
    deliveryStates: rows.flatMap(({ conversationId, deliveredUpTo, deliveredMsgIds, deliveredBy, deliveredAt }) =>
      deliveredAt !== undefined && deliveredUpTo !== undefined && deliveredMsgIds && deliveredBy ? [{ conversationId, deliveredUpTo, deliveredMsgIds, deliveredBy, deliveredAt }] : [],
    ),
  };
}

/** The delivery states that advanced after `after` (epoch ms), newest first, at most `limit`. */
export const deliveryChangedAfter = (states: readonly DeliveryState[], after: number, limit: number): DeliveryState[] =>
  states.filter((state) => state.deliveredAt > after).sort((a, b) => b.deliveredAt - a.deliveredAt).slice(0, limit);
