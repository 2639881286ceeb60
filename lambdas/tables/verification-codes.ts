/**
 * The `verificationCodes` table: per phone number, the current SMS code (hashed), its remaining
 * attempts, and the times codes were sent, which rate-limit sending.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { tableName, type Deps } from '../runtime/deps';

export interface VerificationRecord {
  readonly phoneNumber: string;
  /** SHA-256 of number and code; absent once the code was used. */
  readonly codeHash?: string;
  /** Epoch milliseconds after which the code is refused. */
  readonly codeExpiresAt: number;
  readonly attemptsLeft: number;
  /** Epoch milliseconds of each code sent within the rate-limit window. */
  readonly sentAt: number[];
  /** Incremented on every new code, so two concurrent requests cannot both pass the rate limit. */
  readonly version: number;
  /** Epoch seconds (the table's TTL attribute): when the item, send history included, may go. */
  readonly expiresAt: number;
}

const isConditionFailure = (error: unknown) => error instanceof ConditionalCheckFailedException;

export async function getVerification(deps: Deps, phoneNumber: string): Promise<VerificationRecord | undefined> {
  const { Item } = await deps.clients.db.send(
    new GetCommand({ TableName: tableName(deps, 'verificationCodes'), Key: { phoneNumber }, ConsistentRead: true }),
  );
  return Item as VerificationRecord | undefined;
}

/** Stores a new code if nobody stored one since `previous` was read; false if somebody did. */
export async function replaceCode(
  deps: Deps,
  next: VerificationRecord,
  previous: VerificationRecord | undefined,
): Promise<boolean> {
  try {
    await deps.clients.db.send(
      new PutCommand({
        TableName: tableName(deps, 'verificationCodes'),
        Item: next,
        ...(previous
          ? { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': previous.version } }
          : { ConditionExpression: 'attribute_not_exists(phoneNumber)' }),
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** Uses up one attempt on the code with this hash; answers the attempts left, or undefined if none were. */
export async function spendAttempt(deps: Deps, phoneNumber: string, codeHash: string): Promise<number | undefined> {
  try {
    const { Attributes } = await deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'verificationCodes'),
        Key: { phoneNumber },
        UpdateExpression: 'SET attemptsLeft = attemptsLeft - :one',
        ConditionExpression: 'codeHash = :h AND attemptsLeft > :zero',
        ExpressionAttributeValues: { ':h': codeHash, ':one': 1, ':zero': 0 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return (Attributes as { attemptsLeft: number }).attemptsLeft;
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}

/** Removes the code if it is still this one, unexpired and with attempts left: a code verifies once. */
export async function consumeCode(deps: Deps, phoneNumber: string, codeHash: string): Promise<boolean> {
  try {
    await deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'verificationCodes'),
        Key: { phoneNumber },
        UpdateExpression: 'REMOVE codeHash',
        ConditionExpression: 'codeHash = :h AND attemptsLeft > :zero AND codeExpiresAt > :now',
        ExpressionAttributeValues: { ':h': codeHash, ':zero': 0, ':now': deps.now() },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}
