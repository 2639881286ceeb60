/** The `acceptedMessages` table: each SEND stamped once, by sender and msgId. */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
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
  try {
    await deps.clients.db.send(
      new PutCommand({
        TableName: tableName(deps, 'acceptedMessages'),
        Item: candidate,
        ConditionExpression: 'attribute_not_exists(messageKey)',
      }),
    );
    return candidate;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const { Item } = await deps.clients.db.send(
      new GetCommand({ TableName: tableName(deps, 'acceptedMessages'), Key: { messageKey: candidate.messageKey }, ConsistentRead: true }),
    );
    if (!Item) throw new Error('An accepted message vanished between its write and its read');
    return Item as AcceptedMessage;
  }
}
