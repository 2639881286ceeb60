import { randomUUID } from 'node:crypto';
import type { DeviceSocket } from './device-client';

/** SYNCs page by page until QUEUE_EMPTY, as a client does after connecting; answers every queued frame in order. */
export async function syncQueue(socket: DeviceSocket): Promise<any[]> {
  const frames: any[] = [];
  let cursor: string | undefined;
  for (;;) {
    const requestId = randomUUID();
    socket.send({ action: 'SYNC', requestId, ...(cursor ? { cursor } : {}) });
    const page = await socket.next((frame) => frame.requestId === requestId);
    if (page.type !== 'SYNC_PAGE' && page.type !== 'QUEUE_EMPTY') throw new Error(`SYNC answered ${JSON.stringify(page)}`);
    frames.push(...page.frames);
    if (page.type === 'QUEUE_EMPTY') return frames;
    cursor = page.cursor;
  }
}
