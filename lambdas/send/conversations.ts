/**
 * Conversation ids. A 1:1 conversation's id is derived from its two members, so the right to write to it
 * needs no lookup: the sender must be one of the two. A group's is `group:<groupId>`.
 */
import { ParleyError } from '../protocol/errors';

export function directConversationId(userA: string, userB: string): string {
  return `direct:${[userA, userB].sort().join(':')}`;
}

export const GROUP_CONVERSATION_PREFIX = 'group:';

export const groupConversationId = (groupId: string) => `${GROUP_CONVERSATION_PREFIX}${groupId}`;

/** The group a conversation belongs to, or `undefined` for a 1:1 conversation. */
export const groupIdOfConversation = (conversationId: string): string | undefined =>
  conversationId.startsWith(GROUP_CONVERSATION_PREFIX) ? conversationId.slice(GROUP_CONVERSATION_PREFIX.length) : undefined;

/** The other member of a 1:1 conversation the caller belongs to; refuses any other conversation. */
export function peerOf(caller: { userId: string }, conversationId: string): string {
  const members = /^direct:([0-9a-f-]{36}):([0-9a-f-]{36})$/.exec(conversationId);
  const peer = members?.[1] === caller.userId ? members[2] : members?.[2] === caller.userId ? members[1] : undefined;
  if (!peer || directConversationId(caller.userId, peer) !== conversationId) {
    throw new ParleyError('FORBIDDEN', 'The caller is not a member of this conversation');
  }
  return peer;
}
