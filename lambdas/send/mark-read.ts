import { ParleyError } from '../protocol/errors';
import type { ReadAckFrame, ReadFrame } from '../protocol/frames';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { directConversationId } from './conversations';
import { putReceipt, receiptIdOf, receiptServerTs } from './receipts';
import { lastServerTs } from '../tables/conversation-clocks';
import { clearUnread } from '../tables/conversations';

/** The other member of a 1:1 conversation the caller belongs to; refuses any other conversation. */
function peerOf(caller: Caller, conversationId: string): string {
  const members = /^direct:([0-9a-f-]{36}):([0-9a-f-]{36})$/.exec(conversationId);
  const peer = members?.[1] === caller.userId ? members[2] : members?.[2] === caller.userId ? members[1] : undefined;
  if (!peer || directConversationId(caller.userId, peer) !== conversationId) {
    throw new ParleyError('FORBIDDEN', 'The reader is not a member of this conversation');
  }
  return peer;
}

/**
 * READ: two blue ticks for the peer, and the same read state on the reader's other devices. The reader
 * has the message it names, so the conversation's clock has stamped it already: a receipt stamped past
 * the clock comes after it in every queue.
 */
export async function markRead(deps: Deps, caller: Caller, frame: ReadFrame): Promise<Omit<ReadAckFrame, 'requestId'>> {
  const peer = peerOf(caller, frame.conversationId);
  const by = { userId: caller.userId, deviceId: caller.deviceId };
  const stamped = await lastServerTs(deps, frame.conversationId);
  await putReceipt(deps, {
    kind: 'receipt',
    receiptId: receiptIdOf('read', by, [frame.upToMsgId]),
    status: 'read',
    conversationId: frame.conversationId,
    msgIds: [frame.upToMsgId],
    by,
    recipients: peer === caller.userId ? [peer] : [peer, caller.userId],
    serverTs: receiptServerTs(deps.now(), stamped === undefined ? [] : [stamped]),
  });
  await clearUnread(deps, caller.userId, frame.conversationId);
  return { type: 'READ_ACK', conversationId: frame.conversationId, upToMsgId: frame.upToMsgId };
}
