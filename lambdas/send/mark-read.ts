import { ParleyError } from '../protocol/errors';
import type { ReadAckFrame, ReadFrame } from '../protocol/frames';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { groupConversationId, groupIdOfConversation, peerOf } from './conversations';
import { putReceipt, receiptIdOf, receiptServerTs } from './receipts';
import { lastServerTs } from '../tables/conversation-clocks';
import { advanceReadPosition, clearUnread } from '../tables/conversations';
import { getTally } from '../tables/group-receipts';
import { getMembership } from '../tables/groups';
import { presenceOf } from '../tables/presence';
import { readReceiptsFlow } from '../presence/visibility';

/**
 * Who gets the read receipt besides the reader's other devices: the peer of a 1:1 chat, if both send read
 * receipts. In a group the
 * fanout counts the reader towards "read by everyone" for the sender instead.
 */
async function receiptRecipients(deps: Deps, caller: Caller, conversationId: string): Promise<string[]> {
  const groupId = groupIdOfConversation(conversationId);
  if (groupId !== undefined) {
    const membership = await getMembership(deps, groupId, caller.userId);
    if (!membership?.member) throw new ParleyError('FORBIDDEN', 'The reader is not a member of this group');
    return [caller.userId];
  }
  const peer = peerOf(caller, conversationId);
  if (peer === caller.userId) return [peer];
  // Privacy: a reader or peer who turned read receipts off neither sends nor gets them; the reader's other devices still learn it.
  const settings = await presenceOf(deps, [caller.userId, peer]);
  return readReceiptsFlow(settings.get(caller.userId)!.privacy, settings.get(peer)!.privacy) ? [peer, caller.userId] : [caller.userId];
}

/**
 * Nothing up to the message is unread any more: a 1:1 chat forgets its unread set, a group moves the
 * reader's read position to the message (the group's timeline counts what came after).
 */
async function markConversationRead(deps: Deps, userId: string, frame: ReadFrame): Promise<void> {
  if (groupIdOfConversation(frame.conversationId) === undefined) return clearUnread(deps, userId, frame.conversationId);
  const tally = await getTally(deps, frame.upToMsgId);
  if (tally && groupConversationId(tally.groupId) === frame.conversationId) await advanceReadPosition(deps, userId, frame.conversationId, tally.position);
}

/**
 * READ: two blue ticks for the peer, and the same read state on the reader's other devices. The reader
 * has the message it names, so the conversation's clock has stamped it already: a receipt stamped past
 * the clock comes after it in every queue.
 */
export async function markRead(deps: Deps, caller: Caller, frame: ReadFrame): Promise<Omit<ReadAckFrame, 'requestId'>> {
  const recipients = await receiptRecipients(deps, caller, frame.conversationId);
  const by = { userId: caller.userId, deviceId: caller.deviceId };
  const stamped = await lastServerTs(deps, frame.conversationId);
  await putReceipt(deps, {
    kind: 'receipt',
    receiptId: receiptIdOf('read', by, [frame.upToMsgId]),
    status: 'read',
    conversationId: frame.conversationId,
    msgIds: [frame.upToMsgId],
    by,
    recipients,
    serverTs: receiptServerTs(deps.now(), stamped === undefined ? [] : [stamped]),
  });
  await markConversationRead(deps, caller.userId, frame);
  return { type: 'READ_ACK', conversationId: frame.conversationId, upToMsgId: frame.upToMsgId };
}
