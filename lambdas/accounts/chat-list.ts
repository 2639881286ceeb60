/**
 * The chat list: a user's conversations, newest activity first, with unread counts and previews. 1:1 chats keep their
 * own rows up to date; a group's row only marks the member's joining and reading, the member's item in
 * `groupDelivery` keeps the previews its devices sent with their acknowledgements, and the group's
 * timeline gives its last message, how many came after the member's read position and which of them were
 * deleted for everyone (not unread, no preview).
 */
import { mapConcurrently } from '../runtime/concurrency';
import type { Deps } from '../runtime/deps';
import { conversationsStartingWith, listConversations, type ConversationRecord } from '../tables/conversations';
import { countSentAfter, entryAt, latestActivity, type TimelineEntry } from '../tables/group-timeline';
import { getTally } from '../tables/group-receipts';
import { memberPreviews } from '../tables/group-delivery';
import { GROUP_CONVERSATION_PREFIX, groupIdOfConversation } from '../send/conversations';

export interface ChatListEntry {
  conversationId: string;
  lastActivityAt: number;
  lastMsgId: string;
  unreadCount: number;
  /** The newest preview the user's devices wrote: a ciphertext only they can read. */
  preview?: { msgId: string; ciphertext: string };
}

/** A preview with what decides which of two stands: its message's serverTs. */
interface StoredPreview {
  readonly msgId: string;
  readonly ciphertext: string;
  readonly serverTs: number;
}

/** The row's own preview: a 1:1 chat's, or a group's stored before group previews were kept with the device's cursor. */
const rowPreview = (row: ConversationRecord): StoredPreview | undefined =>
  row.preview && row.previewMsgId ? { msgId: row.previewMsgId, ciphertext: row.preview, serverTs: row.previewServerTs ?? 0 } : undefined;

const previewOf = (preview: StoredPreview | undefined) => (preview ? { preview: { msgId: preview.msgId, ciphertext: preview.ciphertext } } : {});

/** Timeline reads one chat list keeps in flight. */
const CONCURRENT_READS = 16;

/**
 * Whether the row's preview is of a message deleted for everyone: the timeline marks it. The preview is
 * nearly always of the newest message, already read; only an older one costs two reads (its tally keeps
 * its timeline position, which may follow its serverTs).
 */
async function previewRevoked(deps: Deps, conversationId: string, preview: StoredPreview, latest: TimelineEntry | undefined): Promise<boolean> {
  if (latest?.msgId === preview.msgId) return latest.revoked === true;
  const position = (await getTally(deps, preview.msgId))?.position;
  return position !== undefined && (await entryAt(deps, conversationId, position))?.revoked === true;
}

/** `kept`: the newest preview the user's devices keep with their cursors in the group (`groupDelivery`). */
async function groupEntry(deps: Deps, userId: string, row: ConversationRecord, kept: StoredPreview | undefined): Promise<ChatListEntry> {
  const [latest, unreadCount] = await Promise.all([
    latestActivity(deps, row.conversationId),
    countSentAfter(deps, row.conversationId, row.lastReadPosition, userId),
  ]);
  const newer = latest && latest.serverTs >= row.lastActivityAt;
  const own = rowPreview(row);
  const preview = own && (!kept || own.serverTs > kept.serverTs) ? own : kept;
  return {
    conversationId: row.conversationId,
    lastActivityAt: newer ? latest.serverTs : row.lastActivityAt,
    lastMsgId: newer ? latest.msgId : row.lastMsgId,
    unreadCount,
    ...(preview && !(await previewRevoked(deps, row.conversationId, preview, latest)) ? previewOf(preview) : {}),
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
      ...previewOf(rowPreview(row)),
    }));
  const kept = await memberPreviews(deps, userId, groups.map((row) => row.conversationId));
  const grouped = await mapConcurrently(groups, CONCURRENT_READS, (row) => groupEntry(deps, userId, row, kept.get(row.conversationId)));
  return [...direct, ...grouped].sort((a, b) => b.lastActivityAt - a.lastActivityAt).slice(0, limit);
}
