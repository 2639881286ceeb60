/**
 * The chat list: a user's conversations, newest activity first, with unread counts and previews. 1:1 chats keep their
 * own rows up to date; a group's row only marks the member's joining and reading, and the group's
 * timeline gives its last message, how many came after the member's read position and which of them were
 * deleted for everyone (not unread, no preview).
 */
import { mapConcurrently } from '../runtime/concurrency';
import type { Deps } from '../runtime/deps';
import { conversationsStartingWith, listConversations, type ConversationRecord } from '../tables/conversations';
import { countSentAfter, entryAt, latestActivity, type TimelineEntry } from '../tables/group-timeline';
import { getTally } from '../tables/group-receipts';
import { GROUP_CONVERSATION_PREFIX, groupIdOfConversation } from '../send/conversations';

export interface ChatListEntry {
  conversationId: string;
  lastActivityAt: number;
  lastMsgId: string;
  unreadCount: number;
  /** The newest preview the user's devices wrote: a ciphertext only they can read. */
  preview?: { msgId: string; ciphertext: string };
}

const previewOf = (row: ConversationRecord) =>
  row.preview && row.previewMsgId ? { preview: { msgId: row.previewMsgId, ciphertext: row.preview } } : {};

/** Timeline reads one chat list keeps in flight. */
const CONCURRENT_READS = 16;

/**
 * Whether the row's preview is of a message deleted for everyone: the timeline marks it. The preview is
 * nearly always of the newest message, already read; only an older one costs two reads (its tally keeps
 * its timeline position, which may follow its serverTs).
 */
async function previewRevoked(deps: Deps, row: ConversationRecord, latest: TimelineEntry | undefined): Promise<boolean> {
  if (!row.previewMsgId) return false;
  if (latest?.msgId === row.previewMsgId) return latest.revoked === true;
  const position = (await getTally(deps, row.previewMsgId))?.position;
  return position !== undefined && (await entryAt(deps, row.conversationId, position))?.revoked === true;
}

async function groupEntry(deps: Deps, userId: string, row: ConversationRecord): Promise<ChatListEntry> {
  const [latest, unreadCount] = await Promise.all([
    latestActivity(deps, row.conversationId),
    countSentAfter(deps, row.conversationId, row.lastReadPosition, userId),
  ]);
  const newer = latest && latest.serverTs >= row.lastActivityAt;
  return {
    conversationId: row.conversationId,
    lastActivityAt: newer ? latest.serverTs : row.lastActivityAt,
    lastMsgId: newer ? latest.msgId : row.lastMsgId,
    unreadCount,
    ...((await previewRevoked(deps, row, latest)) ? {} : previewOf(row)),
  };
}

export async function chatList(deps: Deps, userId: string, limit: number): Promise<ChatListEntry[]> {
  const [recent, groups] = await Promise.all([listConversations(deps, userId, limit), conversationsStartingWith(deps, userId, GROUP_CONVERSATION_PREFIX)]);
  const direct = recent
    .filter((row) => groupIdOfConversation(row.conversationId) === undefined)
    .map((row) => ({
      conversationId: row.conversationId,
      lastActivityAt: row.lastActivityAt,
      lastMsgId: row.lastMsgId,
      unreadCount: (row.unreadCount ?? 0) + (row.unread?.size ?? 0),
      ...previewOf(row),
    }));
  const grouped = await mapConcurrently(groups, CONCURRENT_READS, (row) => groupEntry(deps, userId, row));
  return [...direct, ...grouped].sort((a, b) => b.lastActivityAt - a.lastActivityAt).slice(0, limit);
}
