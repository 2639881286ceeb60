/** REVOKE: delete for everyone; answers REVOKE_ACK with how many queued copies were dropped. */
import { RevokeFrame } from '../protocol/frames';
import { webSocketRoute } from '../runtime/websocket-route';
import { revokeMessage } from './revoke-message';

export const handler = webSocketRoute('revoke', RevokeFrame, (frame, ctx, deps) => revokeMessage(deps, ctx.caller, frame));
