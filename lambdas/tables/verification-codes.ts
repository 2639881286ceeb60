/**
 * The `verificationCodes` table: per phone number, the current SMS code (hashed), its remaining
 * attempts, and the times codes were sent, which rate-limit sending.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tableName, type Deps } from '../runtime/deps';
import { ifConditionHolds } from './conditional-write';

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
  const written = await ifConditionHolds(
    deps.clients.db.send(
      new PutCommand({
        TableName: tableName(deps, 'verificationCodes'),
        Item: next,
        ...(previous
          ? { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': previous.version } }
          : { ConditionExpression: 'attribute_not_exists(phoneNumber)' }),
      }),
    ),
  );
  return written !== undefined;
}

/** A code with one attempt spent on it: the hash to compare the guess with, and the attempts left after it. */
export type CodeAttempt = VerificationRecord & { readonly codeHash: string };

/**
 * Spends one attempt on the number's current code if it has one, unexpired at `now` and with attempts
 * left; answers the code as it is after the attempt, or undefined if there was no attempt to spend.
 */
export async function takeAttempt(deps: Deps, phoneNumber: string, now: number): Promise<CodeAttempt | undefined> {
  const written = await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'verificationCodes'),
        Key: { phoneNumber },
        UpdateExpression: 'SET attemptsLeft = attemptsLeft - :one',
        ConditionExpression: 'attribute_exists(codeHash) AND attemptsLeft > :zero AND codeExpiresAt > :now',
        ExpressionAttributeValues: { ':one': 1, ':zero': 0, ':now': now },
        ReturnValues: 'ALL_NEW',
      }),
    ),
  );
  return written?.Attributes as CodeAttempt | undefined;
}

/** Removes the code if it is still this one: a right code registers once, even when its attempts raced. */
export async function consumeCode(deps: Deps, phoneNumber: string, codeHash: string): Promise<boolean> {
  const written = await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'verificationCodes'),
        Key: { phoneNumber },
        UpdateExpression: 'REMOVE codeHash',
        ConditionExpression: 'codeHash = :h',
        ExpressionAttributeValues: { ':h': codeHash },
      }),
    ),
  );
  return written !== undefined;
}
