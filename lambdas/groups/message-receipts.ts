/** GET /v1/groups/{groupId}/messages/{msgId}/receipts — which members have the sender's message, and who read it. */
import { NoBody } from '../protocol/accounts-api';
import { ParleyError } from '../protocol/errors';
import { authorizedHttpRoute } from '../runtime/http-route';
import { getTally } from '../tables/group-receipts';
import { membersWithDelivered } from '../tables/group-delivery';
import { groupConversationId } from '../send/conversations';
import { groupIdOf } from './group-id';
import * as z from '../protocol/zod';

export const handler = authorizedHttpRoute('groupMessageReceipts', NoBody, async ({ caller, pathParameters }, deps) => {
  const groupId = groupIdOf(pathParameters);
  const msgId = z.uuid().safeParse(pathParameters.msgId);
  if (!msgId.success) throw new ParleyError('BAD_REQUEST', 'msgId: a message id is a UUID');
  const tally = await getTally(deps, msgId.data);
  // Only the sender sees the ticks of its message, as in WhatsApp's message info; an action has none.
  if (!tally || tally.groupId !== groupId || tally.sender !== caller.userId || tally.control) {
    throw new ParleyError('NOT_FOUND', 'No such message of yours in this group');
  }
  return {
    status: 200,
    body: {
      msgId: tally.msgId,
      recipients: tally.recipients,
      delivered: [...new Set([...(tally.delivered ?? []), ...(await membersWithDelivered(deps, groupConversationId(groupId), tally.position))])].filter(
        (userId) => userId !== tally.sender,
      ),
      read: [...(tally.read ?? [])],
      ...(tally.deliveredToAllAt ? { deliveredToAllAt: tally.deliveredToAllAt } : {}),
      ...(tally.readByAllAt ? { readByAllAt: tally.readByAllAt } : {}),
    },
  };
});
