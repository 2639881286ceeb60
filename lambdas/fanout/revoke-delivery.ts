/**
 * A revoke record, after its message's own record (same conversation, same shard, in order): the copies
 * that fan-out wrote are deleted, or the group message it appended is withdrawn from the timeline (a
 * REVOKE that overtook it found nothing), and the message leaves the chat lists. Idempotent, as every
 * record's handling: a redelivered record deletes nothing more and uncounts nothing twice.
 */
import type { RevokeRecord } from '../protocol/stream-records';
import type { Deps } from '../runtime/deps';
import { groupIdOfConversation, peerOf } from '../send/conversations';
import { dropQueuedCopies } from '../send/queued-copies';
import { forgetRevoked } from '../tables/conversations';

/**
 * The chat lists follow: a 1:1 message's preview leaves both rows (and its unread count, if newest). A
 * group's chat lists read the timeline, whose withdrawn entry is neither unread nor previewed.
 */
async function forgetInChatLists(deps: Deps, record: RevokeRecord): Promise<void> {
  const { msgId, conversationId, from } = record;
  if (groupIdOfConversation(conversationId) !== undefined) return;
  const peer = peerOf(from, conversationId);
  await Promise.all([
    forgetRevoked(deps, from.userId, conversationId, msgId, false),
    ...(peer === from.userId ? [] : [forgetRevoked(deps, peer, conversationId, msgId, true)]),
  ]);
}

export async function deliverRevoke(deps: Deps, record: RevokeRecord): Promise<void> {
  await dropQueuedCopies(deps, record);
  await forgetInChatLists(deps, record);
}
