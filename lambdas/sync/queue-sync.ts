/** SYNC and DELIVERED: a device drains its queue in order and acknowledges what it stored. */
import type { DeliveredAckFrame, QueueEmptyFrame, SyncPageFrame } from '../protocol/frames';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { postFrame } from '../connect/connections';
import { dequeueMessage, queueOf, readQueue } from '../tables/device-queues';

/** Messages per SYNC page: 100 PUSH frames, then the page marker. */
export const SYNC_PAGE_SIZE = 100;

/**
 * Posts one page of the queue to the connection, in order, and answers where the page ended. Items stay
 * queued until DELIVERED: a device that drops mid-SYNC gets them again from its last cursor.
 */
export async function syncPage(
  deps: Deps,
  caller: Caller,
  connectionId: string,
  cursor: string | undefined,
): Promise<Omit<SyncPageFrame, 'requestId'> | Omit<QueueEmptyFrame, 'requestId'>> {
  const { items, more } = await readQueue(deps, queueOf(caller.userId, caller.deviceId), cursor, SYNC_PAGE_SIZE);
  for (const item of items) {
    // One after another: the device must see its queue in order.
    if ((await postFrame(deps, connectionId, item.frame)) === 'gone') return { type: 'QUEUE_EMPTY' };
  }
  const last = items.at(-1)?.position;
  return more && last ? { type: 'SYNC_PAGE', cursor: last } : { type: 'QUEUE_EMPTY' };
}

/** Forgets the acknowledged messages; acknowledging one twice, or one never queued, is harmless. */
export async function acknowledgeDelivered(deps: Deps, caller: Caller, msgIds: string[]): Promise<Omit<DeliveredAckFrame, 'requestId'>> {
  const device = queueOf(caller.userId, caller.deviceId);
  await Promise.all(msgIds.map((msgId) => dequeueMessage(deps, device, msgId)));
  return { type: 'DELIVERED_ACK', msgIds };
}
