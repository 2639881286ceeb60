/** The `accounts` table: one item per registered phone number, naming its account. */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { putIfAbsent } from './put-if-absent';
import { batchGet } from './batch-requests';
import { tableName, type Deps } from '../runtime/deps';

export interface AccountRecord {
  readonly phoneNumber: string;
  readonly userId: string;
  /** Epoch milliseconds of the first registration. */
  readonly createdAt: number;
}

export async function findAccount(deps: Deps, phoneNumber: string): Promise<AccountRecord | undefined> {
  const { Item } = await deps.clients.db.send(
    new GetCommand({ TableName: tableName(deps, 'accounts'), Key: { phoneNumber }, ConsistentRead: true }),
  );
  return Item as AccountRecord | undefined;
}

/**
 * Gives the number to a new account unless an account already holds it, atomically, and answers with
 * the account that holds it now: the candidate, or the existing one (a re-registration).
 */
export async function claimPhoneNumber(deps: Deps, candidate: AccountRecord): Promise<AccountRecord> {
  if (await putIfAbsent(deps, 'accounts', { ...candidate })) return candidate;
  const holder = await findAccount(deps, candidate.phoneNumber);
  if (!holder) throw new Error('The phone number was claimed and released concurrently');
  return holder;
}

/** The accounts of those of these numbers that have one, in batches of 100 (eventually consistent). */
export async function findAccounts(deps: Deps, phoneNumbers: readonly string[]): Promise<AccountRecord[]> {
  return batchGet<AccountRecord>(deps, 'accounts', phoneNumbers.map((phoneNumber) => ({ phoneNumber })), 'phoneNumber, userId');
}
