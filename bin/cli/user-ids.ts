/** Commands take a user as a userId or a phone number (`+…`); a number is looked up first. */
import type { ParleyClient } from '../../client';
import { CliError } from './errors';

const isPhoneNumber = (word: string) => word.startsWith('+');

/** The userIds of these userIds or phone numbers; a number without an account is an error naming it. */
export async function userIdsOf(client: ParleyClient, words: readonly string[]): Promise<string[]> {
  const numbers = words.filter(isPhoneNumber);
  const found = new Map((numbers.length ? await client.lookup(numbers) : []).map(({ phoneNumber, userId }) => [phoneNumber, userId]));
  return words.map((word) => {
    if (!isPhoneNumber(word)) return word;
    const userId = found.get(word);
    if (!userId) throw new CliError(`${word} is not on Parley`);
    return userId;
  });
}
