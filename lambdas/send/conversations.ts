/**
 * Conversation ids. A 1:1 conversation's id is derived from its two members, so the right to write to it
 * needs no lookup: the sender must be one of the two. A group's is `group:<groupId>`.
 */
export function directConversationId(userA: string, userB: string): string {
  return `direct:${[userA, userB].sort().join(':')}`;
}

export const GROUP_CONVERSATION_PREFIX = 'group:';

export const groupConversationId = (groupId: string) => `${GROUP_CONVERSATION_PREFIX}${groupId}`;

/** The group a conversation belongs to, or `undefined` for a 1:1 conversation. */
export const groupIdOfConversation = (conversationId: string): string | undefined =>
  conversationId.startsWith(GROUP_CONVERSATION_PREFIX) ? conversationId.slice(GROUP_CONVERSATION_PREFIX.length) : undefined;
