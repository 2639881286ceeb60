/** The `groupReceipts` table: per group message, the members who have it and who have read it. */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tableName, type Deps } from '../runtime/deps';
import { ifConditionHolds } from './conditional-write';
import { putIfAbsent } from './put-if-absent';

export type TallyStatus = 'delivered' | 'read';

export interface GroupReceiptTally {
  readonly msgId: string;
  readonly groupId: string;
  /** The sender's userId: the one who sees the ticks. */
  readonly sender: string;
  /** The message's timeline position: a READ of it marks everything up to here read. */
  readonly position: string;
  /** How many members (the sender not counted) the message went to. */
  readonly recipients: number;
  /** Members counted as having it: once each, as their `groupDelivery` position moves past it. */
  readonly deliveredCount?: number;
  /** Members who had it counted by name, before `deliveredCount` (messages queued per device). */
  readonly delivered?: Set<string>;
  readonly read?: Set<string>;
  /** Epoch milliseconds when the "to everyone" receipt went out, per status. */
  readonly deliveredToAllAt?: number;
  readonly readByAllAt?: number;
  /** Epoch seconds (the table's TTL attribute). */
  readonly expiresAt: number;
  /** An action on the chat (GROUP_SEND `control`): the tally keeps its timeline position, and it gets no ticks. */
  readonly control?: true;
}

/** Opens the tally when the message is fanned out; a redelivered record leaves it as it is (false). */
export async function openTally(deps: Deps, tally: Omit<GroupReceiptTally, 'delivered' | 'deliveredCount' | 'read'>): Promise<boolean> {
  return putIfAbsent(deps, 'groupReceipts', { ...tally });
}

export async function getTally(deps: Deps, msgId: string): Promise<GroupReceiptTally | undefined> {
  const { Item } = await deps.clients.db.send(new GetCommand({ TableName: tableName(deps, 'groupReceipts'), Key: { msgId }, ConsistentRead: true }));
  return Item as GroupReceiptTally | undefined;
}

/** Applies an ADD to the message's tally, if one was opened; answers the tally after it. */
async function addToTally(deps: Deps, msgId: string, add: string, values: Record<string, unknown>, names?: Record<string, string>): Promise<GroupReceiptTally | undefined> {
  const added = await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'groupReceipts'),
        Key: { msgId },
        UpdateExpression: add,
        ConditionExpression: 'attribute_exists(msgId)',
        ...(names ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    ),
  );
  return added?.Attributes as GroupReceiptTally | undefined;
}

/** Counts the member in (a set: counting twice changes nothing); answers the tally, or nothing if none was opened. */
export const tally = (deps: Deps, msgId: string, status: TallyStatus, userId: string) =>
  addToTally(deps, msgId, 'ADD #status :user', { ':user': new Set([userId]) }, { '#status': status });

/**
 * Counts one more member who has the message: a number, not a set, so the item (and what each count is
 * billed) does not grow with the group. The caller counts each member once (its `groupDelivery` position
 * moved past the message). Answers the tally, or nothing if none was opened.
 */
export const countDelivered = (deps: Deps, msgId: string) => addToTally(deps, msgId, 'ADD deliveredCount :one', { ':one': 1 });

/** Records that the "to everyone" receipt went out; false if it had already. */
export async function markEveryone(deps: Deps, msgId: string, status: TallyStatus, at: number): Promise<boolean> {
  const attribute = status === 'delivered' ? 'deliveredToAllAt' : 'readByAllAt';
  const marked = await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'groupReceipts'),
        Key: { msgId },
        UpdateExpression: 'SET #at = :at',
        ConditionExpression: 'attribute_not_exists(#at)',
        ExpressionAttributeNames: { '#at': attribute },
        ExpressionAttributeValues: { ':at': at },
      }),
    ),
  );
  return marked !== undefined;
}
