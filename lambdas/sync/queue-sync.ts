/** SYNC and DELIVERED: a device drains its queue in order and acknowledges what it stored. */
import { MAX_ACKNOWLEDGED, type DeliveredAckFrame, type QueuedFrame, type QueueEmptyFrame, type SyncPageFrame } from '../protocol/frames';
import { webSocketLimits } from '../protocol/limits';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { deleteQueued, findQueued, queueOf, readQueue, type QueuedItem } from '../tables/device-queues';
import { putReceipt, receiptIdOf, receiptServerTs } from '../send/receipts';
import { groupFramesAfter, mergeInOrder } from './group-sync';

/** Most frames in one SYNC page: as many as one DELIVERED may acknowledge. */
export const SYNC_PAGE_SIZE = MAX_ACKNOWLEDGED;
/** A page is one API Gateway message; this leaves room for the page's own fields around its frames. */
const PAGE_BYTES = webSocketLimits.messageBytes - 1024;

/**
 * The page of the device's queue after `cursor`, in order, as SYNC's answer: one API Gateway message
 * instead of one `@connections` post per item. Items stay queued until DELIVERED: a device that drops
 * mid-SYNC asks again from its last cursor.
 */
export async function syncPage(
  deps: Deps,
  caller: Caller,
  cursor: string | undefined,
): Promise<Omit<SyncPageFrame, 'requestId'> | Omit<QueueEmptyFrame, 'requestId'>> {
  const [queue, groups] = await Promise.all([
    readQueue(deps, queueOf(caller.userId, caller.deviceId), cursor, SYNC_PAGE_SIZE),
    groupFramesAfter(deps, caller, cursor, SYNC_PAGE_SIZE),
  ]);
  // The device's queue and its groups' timelines (group messages are stored once, per group), in order.
  const { frames: ordered, next } = mergeInOrder([{ frames: queue.items.map((item) => item.frame), ...(queue.next ? { next: queue.next } : {}) }, ...groups]);
  const frames: QueuedFrame[] = [];
  let bytes = 0;
  for (const frame of ordered) {
    // A frame is at most one 96 KiB message and its fields, so the first always fits.
    bytes += Buffer.byteLength(JSON.stringify(frame)) + 1;
    if (frames.length > 0 && (bytes > PAGE_BYTES || frames.length === SYNC_PAGE_SIZE)) {
      return { type: 'SYNC_PAGE', frames, cursor: frames.at(-1)!.cursor };
    }
    frames.push(frame);
  }
  return next ? { type: 'SYNC_PAGE', frames, cursor: next } : { type: 'QUEUE_EMPTY', frames };
}

/** The caller's queued items of each msgId (normally one each; none if never queued or gone already). */
export type QueuedByMessage = ReadonlyMap<string, readonly QueuedItem[]>;

export async function findAcknowledged(deps: Deps, caller: Caller, msgIds: readonly string[]): Promise<QueuedByMessage> {
  const device = queueOf(caller.userId, caller.deviceId);
  const unique = [...new Set(msgIds)];
  const found = await Promise.all(unique.map((msgId) => findQueued(deps, device, msgId)));
  return new Map(unique.map((msgId, i) => [msgId, found[i]!]));
}

/**
 * Forgets the acknowledged messages and tells their senders' devices (two grey ticks). The receipts go
 * on the stream before the items are deleted: a DELIVERED that fails midway and is retried sends its
 * receipts again (same receiptId) rather than not at all. Acknowledging twice, or an id never queued,
 * is harmless.
 */
export async function acknowledgeDelivered(
  deps: Deps,
  caller: Caller,
  msgIds: string[],
  queued?: QueuedByMessage,
): Promise<Omit<DeliveredAckFrame, 'requestId'>> {
  const found = queued ?? (await findAcknowledged(deps, caller, msgIds));
  const items = [...new Set(msgIds)].flatMap((msgId) => found.get(msgId) ?? []);
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
