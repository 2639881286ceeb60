/**
 * Conversation ids. A 1:1 conversation's id is derived from its two members, so the right to write to it
 * needs no lookup: the sender must be one of the two.
 */
export function directConversationId(userA: string, userB: string): string {
  return `direct:${[userA, userB].sort().join(':')}`;
}
