/**
 * GET /v1/conversations — the caller's chat list, newest first, with unread counts and the previews the
 * user's devices wrote, so a newly linked device can show it.
 */
import { NoBody } from '../protocol/accounts-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { listConversations } from '../tables/conversations';

const PAGE = 100;

export const handler = authorizedHttpRoute('listConversations', NoBody, async ({ caller }, deps) => ({
  status: 200,
  body: {
    conversations: (await listConversations(deps, caller.userId, PAGE)).map((conversation) => ({
      conversationId: conversation.conversationId,
      lastActivityAt: conversation.lastActivityAt,
      lastMsgId: conversation.lastMsgId,
      unreadCount: conversation.unread?.size ?? 0,
      ...(conversation.preview ? { preview: { msgId: conversation.previewMsgId, ciphertext: conversation.preview } } : {}),
    })),
  },
}));
