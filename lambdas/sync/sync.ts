/** SYNC: answers one page of the device's queue, SYNC_PAGE with a cursor for more, or QUEUE_EMPTY as the last. */
import { SyncFrame } from '../protocol/frames';
import { webSocketRoute } from '../runtime/websocket-route';
import { syncPage } from './queue-sync';

export const handler = webSocketRoute('sync', SyncFrame, (frame, ctx, deps) => syncPage(deps, ctx.caller, frame.cursor));
