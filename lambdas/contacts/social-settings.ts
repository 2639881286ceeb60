/**
 * What a user decides about others: their contacts, their privacy settings, whom they block. Each change
 * takes effect for live presence watchers at once (see lambdas/presence/announce.ts).
 */
import { ParleyError } from '../protocol/errors';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { announceSettingsChange } from '../presence/announce';
import { requireAccounts } from '../presence/subscriptions';
import { deleteBlock, listBlocks, putBlock } from '../tables/blocks';
import { getContacts, putContacts } from '../tables/contacts';
import { getPresence, updatePrivacy, type PrivacySettings } from '../tables/presence';

/** Replaces the caller's contacts; unknown users refuse the whole list (NOT_FOUND), and nothing is stored. */
export async function replaceContacts(deps: Deps, caller: Caller, userIds: readonly string[]): Promise<string[]> {
  await requireAccounts(deps, userIds);
  await putContacts(deps, caller.userId, userIds, deps.now());
  await announceSettingsChange(deps, caller.userId);
  return [...userIds];
}

export const contactsOf = (deps: Deps, caller: Caller) => getContacts(deps, caller.userId);

export async function privacyOf(deps: Deps, caller: Caller): Promise<PrivacySettings> {
  return (await getPresence(deps, caller.userId)).privacy;
}

export async function changePrivacy(deps: Deps, caller: Caller, change: Partial<PrivacySettings>): Promise<PrivacySettings> {
  const { privacy } = await updatePrivacy(deps, caller.userId, change);
  await announceSettingsChange(deps, caller.userId);
  return privacy;
}

async function blockable(deps: Deps, caller: Caller, userId: string): Promise<void> {
  if (userId === caller.userId) throw new ParleyError('BAD_REQUEST', 'A user cannot block themselves');
  await requireAccounts(deps, [userId]);
}

/** Blocks a user: their 1:1 messages are accepted and never delivered, and they see nothing of the caller's presence or typing. */
export async function blockUser(deps: Deps, caller: Caller, userId: string): Promise<void> {
  await blockable(deps, caller, userId);
  await putBlock(deps, { userId: caller.userId, blockedUserId: userId, blockedAt: deps.now() });
  await announceSettingsChange(deps, caller.userId);
}

/** Unblocks a user; what they sent meanwhile stays undelivered. Unblocking someone not blocked changes nothing. */
export async function unblockUser(deps: Deps, caller: Caller, userId: string): Promise<void> {
  await blockable(deps, caller, userId);
  await deleteBlock(deps, caller.userId, userId);
  await announceSettingsChange(deps, caller.userId);
}

export async function blocksOf(deps: Deps, caller: Caller): Promise<{ userId: string; blockedAt: number }[]> {
  return (await listBlocks(deps, caller.userId)).map(({ blockedUserId, blockedAt }) => ({ userId: blockedUserId, blockedAt }));
}
