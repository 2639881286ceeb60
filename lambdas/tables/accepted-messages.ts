/** The `acceptedMessages` table: each SEND stamped once, by sender and msgId. */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { putIfAbsent } from './put-if-absent';
import { tableName, type Deps } from '../runtime/deps';

export interface AcceptedMessage {
  /** `${senderUserId}#${msgId}`: a msgId is the sender's to choose, so it is unique per sender only. */
  readonly messageKey: string;
  readonly conversationId: string;
  /** Epoch milliseconds of the first acceptance. */
  readonly serverTs: number;
  /** Epoch seconds (the table's TTL attribute). */
  readonly expiresAt: number;
}

export const messageKeyOf = (senderUserId: string, msgId: string) => `${senderUserId}#${msgId}`;

/** Records the message unless it was accepted before; answers the record that stands: this one or the first. */
export async function acceptOnce(deps: Deps, candidate: AcceptedMessage): Promise<AcceptedMessage> {
  if (await putIfAbsent(deps, 'acceptedMessages', { ...candidate })) return candidate;
  const { Item } = await deps.clients.db.send(
    new GetCommand({ TableName: tableName(deps, 'acceptedMessages'), Key: { messageKey: candidate.messageKey }, ConsistentRead: true }),
  );
  if (!Item) throw new Error('An accepted message vanished between its write and its read');
  return Item as AcceptedMessage;
}
