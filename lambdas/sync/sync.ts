/** SYNC: the device's queue, one page of PUSH frames per SYNC, then SYNC_PAGE or QUEUE_EMPTY. */
import { SyncFrame } from '../protocol/frames';
import { webSocketRoute } from '../runtime/websocket-route';
import { syncPage } from './queue-sync';

export const handler = webSocketRoute('sync', SyncFrame, async (frame, ctx, deps) => ({
  ...(await syncPage(deps, ctx.caller, ctx.connection.connectionId, frame.cursor)),
  ...(frame.requestId ? { requestId: frame.requestId } : {}),
}));
