/** SYNC and DELIVERED: a device drains its queue in order and acknowledges what it stored. */
import type { DeliveredAckFrame, QueueEmptyFrame, SyncPageFrame } from '../protocol/frames';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { postFrame } from '../connect/connections';
import { deleteQueued, findQueued, queueOf, readQueue, type QueuedItem } from '../tables/device-queues';
import { putReceipt, receiptIdOf, receiptServerTs } from '../send/receipts';

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

/**
 * Forgets the acknowledged messages and tells their senders' devices (two grey ticks). The receipts go
 * on the stream before the items are deleted: a DELIVERED that fails midway and is retried sends its
 * receipts again (same receiptId) rather than not at all. Acknowledging twice, or an id never queued,
 * is harmless.
 */
export async function acknowledgeDelivered(deps: Deps, caller: Caller, msgIds: string[]): Promise<Omit<DeliveredAckFrame, 'requestId'>> {
  const device = queueOf(caller.userId, caller.deviceId);
  const items = (await Promise.all(msgIds.map((msgId) => findQueued(deps, device, msgId)))).flat();
  const by = { userId: caller.userId, deviceId: caller.deviceId };
  const bySender = new Map<string, { conversationId: string; sender: string; msgIds: string[]; serverTs: number[] }>();
  for (const item of items) {
    // Receipts are not acknowledged with receipts, nor a user's own messages from another of its devices.
    if (item.frame.type !== 'PUSH' || item.frame.from.userId === caller.userId) continue;
    const key = `${item.frame.conversationId} ${item.frame.from.userId}`;
    const group = bySender.get(key) ?? { conversationId: item.frame.conversationId, sender: item.frame.from.userId, msgIds: [], serverTs: [] };
    group.msgIds.push(item.msgId);
    group.serverTs.push(item.frame.serverTs);
    bySender.set(key, group);
  }
  for (const { conversationId, sender, msgIds: delivered, serverTs } of bySender.values()) {
    await putReceipt(deps, {
      kind: 'receipt',
      receiptId: receiptIdOf('delivered', by, delivered),
      status: 'delivered',
      conversationId,
      msgIds: delivered,
      by,
      recipients: [sender],
      serverTs: receiptServerTs(deps.now(), serverTs),
    });
  }
  await Promise.all(items.map((item: QueuedItem) => deleteQueued(deps, item)));
  return { type: 'DELIVERED_ACK', msgIds };
}
