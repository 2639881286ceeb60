/**
 * The `acceptedMessages` table: each accepted SEND or GROUP_SEND by its msgId, which binds the msgId to
 * its sending device and conversation, stamps it once and records once its record is on the stream.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ifConditionHolds } from './conditional-write';
import { putIfAbsent } from './put-if-absent';
import { tableName, type Deps } from '../runtime/deps';

export interface AcceptedMessage {
  /** Unique across all senders: queues, DELIVERED, previews and group receipts name a message by it alone. */
  readonly msgId: string;
  /** `${userId}.${deviceId}` of the device that sent it: only that device may retry it. */
  readonly sender: string;
  readonly conversationId: string;
  /** Epoch milliseconds of the first acceptance. */
  readonly serverTs: number;
  /** Epoch seconds (the table's TTL attribute). */
  readonly expiresAt: number;
  /** Set once the message's record is on the stream: a retry then puts nothing again. */
  readonly onStream?: true;
  /** Set when its sender deleted it for everyone (REVOKE): a late or redriven record of it is delivered to nobody. */
  readonly revoked?: true;
}

export const senderOf = ({ userId, deviceId }: { userId: string; deviceId: number }) => `${userId}.${deviceId}`;

/** Records the message unless it was accepted before; answers the record that stands: this one or the first. */
export async function acceptOnce(deps: Deps, candidate: AcceptedMessage): Promise<AcceptedMessage> {
  if (await putIfAbsent(deps, 'acceptedMessages', { ...candidate })) return candidate;
  const accepted = await getAccepted(deps, candidate.msgId);
  if (!accepted) throw new Error('An accepted message vanished between its write and its read');
  return accepted;
}

export async function getAccepted(deps: Deps, msgId: string): Promise<AcceptedMessage | undefined> {
  const { Item } = await deps.clients.db.send(
    new GetCommand({ TableName: tableName(deps, 'acceptedMessages'), Key: { msgId }, ConsistentRead: true }),
  );
  return Item as AcceptedMessage | undefined;
}

/** Sets one of the record's flags (conditional, so an expired record is not made again); setting it again changes nothing. */
async function setFlag(deps: Deps, msgId: string, flag: 'onStream' | 'revoked'): Promise<void> {
  await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'acceptedMessages'),
        Key: { msgId },
        UpdateExpression: `SET ${flag} = :true`,
        ConditionExpression: 'attribute_exists(msgId)',
        ExpressionAttributeValues: { ':true': true },
      }),
    ),
  );
}

/** Notes that the message's record is on the stream. */
export const markOnStream = (deps: Deps, msgId: string) => setFlag(deps, msgId, 'onStream');

/** Marks the message deleted for everyone. */
export const markRevoked = (deps: Deps, msgId: string) => setFlag(deps, msgId, 'revoked');

/** Whether the message was deleted for everyone (false too when it is forgotten, after 30 days). */
export const isRevoked = async (deps: Deps, msgId: string) => (await getAccepted(deps, msgId))?.revoked === true;
