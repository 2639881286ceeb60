/**
 * Contact discovery: which of a device's phone numbers have accounts. One batched read of the accounts
 * table by key (never a scan), after the device's daily quota of numbers, so that no device can walk the
 * number space. Numbers are never logged.
 */
import { rateLimited } from '../protocol/errors';
import type { LookupAnswer } from '../protocol/contacts-api';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { findAccounts } from '../tables/accounts';
import { spendTokens } from '../tables/rate-limits';
import { LOOKUP_QUOTA } from './constants';

export async function lookUpNumbers(deps: Deps, caller: Caller, phoneNumbers: readonly string[]): Promise<LookupAnswer> {
  const spend = await spendTokens(deps, `directory:${caller.userId}.${caller.deviceId}`, phoneNumbers.length, LOOKUP_QUOTA);
  if (!spend.allowed) throw rateLimited('This device looked up too many numbers today; nothing was looked up', spend.retryAfterMs);
  const accounts = await findAccounts(deps, phoneNumbers);
  const order = new Map(phoneNumbers.map((number, index) => [number, index]));
  return {
    found: accounts
      .sort((a, b) => order.get(a.phoneNumber)! - order.get(b.phoneNumber)!)
      .map(({ phoneNumber, userId }) => ({ phoneNumber, userId })),
  };
}
