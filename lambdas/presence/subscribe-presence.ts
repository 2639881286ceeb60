/** SUBSCRIBE_PRESENCE: answers PRESENCE_SUBSCRIBED with the watched users' presence; PRESENCE frames follow each change. */
import { SubscribePresenceFrame } from '../protocol/frames';
import { webSocketRoute } from '../runtime/websocket-route';
import { subscribePresence } from './subscriptions';

export const handler = webSocketRoute('subscribePresence', SubscribePresenceFrame, async (frame, ctx, deps) => ({
  type: 'PRESENCE_SUBSCRIBED',
  presence: await subscribePresence(deps, ctx.caller, ctx.connection, frame.userIds),
}));
