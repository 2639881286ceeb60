/**
 * GET /v1/conversations — the caller's chat list, newest first, with unread counts and the previews the
 * user's devices wrote, so a newly linked device can show it.
 */
import { NoBody } from '../protocol/accounts-api';
import { authorizedHttpRoute } from '../runtime/http-route';
import { chatList } from './chat-list';

const PAGE = 100;

export const handler = authorizedHttpRoute('listConversations', NoBody, async ({ caller }, deps) => ({
  status: 200,
  body: { conversations: await chatList(deps, caller.userId, PAGE) },
}));
