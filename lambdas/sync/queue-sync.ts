/** SYNC and DELIVERED: a device drains its queue in order and acknowledges what it stored. */
import { MAX_ACKNOWLEDGED, type DeliveredAckFrame, type GroupCursor, type PushFrame, type QueuedFrame, type QueueEmptyFrame, type SyncPageFrame } from '../protocol/frames';
import { webSocketLimits } from '../protocol/limits';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { enqueue, queueOf, QUEUE_TTL_MS, readQueue, takeQueued, type QueuedItem } from '../tables/device-queues';
import { deliveryChangedAfter, readSyncRows, type DeliveryState } from '../tables/conversations';
import { putReceipt, receiptIdOf, receiptServerTs } from '../send/receipts';
import { GROUP_CONVERSATION_PREFIX, groupIdOfConversation } from '../send/conversations';
import { deliveryReceiptOf, markDelivered } from './delivery-state';
import { groupFramesAfter, mergeInOrder, type OrderedFrames } from './group-sync';
import type { GroupsAcknowledged } from './group-delivered';

/** Most frames in one SYNC page: as many as one DELIVERED may acknowledge. */
export const SYNC_PAGE_SIZE = MAX_ACKNOWLEDGED;
/** Most delivery states the last page of a SYNC carries: the conversations that changed most recently. */
export const MAX_SYNC_DELIVERY_STATES = 100;
/**
 * States are stamped by the clocks of different Lambdas: a SYNC reads back this much before the time the
 * device names, so a state stamped by a slower clock after the device's newest is not missed. The
 * device drops the repeats by receiptId.
 */
export const CLOCK_SKEW_MS = 60_000;
/** A page is one API Gateway message; this leaves room for the page's own fields around its frames. */
const PAGE_BYTES = webSocketLimits.messageBytes - 1024;

const frameBytes = (frame: QueuedFrame) => Buffer.byteLength(JSON.stringify(frame)) + 1;

/**
 * The page of the device's queue after `cursor`, in order, as SYNC's answer: one API Gateway message
 * instead of one `@connections` post per item. Items stay queued until DELIVERED: a device that drops
 * mid-SYNC asks again from its last cursor. The last page ends with the delivery states of the user's 1:1
 * conversations that changed after `receiptsAfter` (30 days back without it), after every queued frame.
 * The SYNC's group acknowledgements (`acknowledgedGroups`) are applied first, so the page starts after them.
 */
export async function syncPage(
  deps: Deps,
  caller: Caller,
  cursor: string | undefined,
  receiptsAfter?: number,
  acknowledgedGroups: readonly GroupCursor[] = [],
): Promise<{ page: Omit<SyncPageFrame, 'requestId'> | Omit<QueueEmptyFrame, 'requestId'>; acknowledged: GroupsAcknowledged }> {
  // The user's rows are read once: the group windows for this page, the delivery states for the last.
  const rows = readSyncRows(deps, caller.userId, GROUP_CONVERSATION_PREFIX);
  const [queue, groups, { deliveryStates }] = await Promise.all([
    readQueue(deps, queueOf(caller.userId, caller.deviceId), cursor, SYNC_PAGE_SIZE),
    groupFramesAfter(deps, caller, cursor, SYNC_PAGE_SIZE, acknowledgedGroups, rows.then((read) => read.groups)),
    rows,
  ]);
  const page = pageOf(deps, mergeInOrder([{ frames: queue.items.map((item) => item.frame), ...(queue.next ? { next: queue.next } : {}) }, ...groups.sources]), deliveryStates, receiptsAfter);
  // The acknowledgement's writes went on while the page was made; the SYNC answers once they are done.
  const acknowledged = await groups.acknowledged;
  const ignored = acknowledged.ignoredPreviews.length ? { ignoredPreviews: acknowledged.ignoredPreviews } : {};
  return { page: { ...page, ...ignored }, acknowledged };
}

/**
 * The page of these frames (the device's queue and its groups' timelines, in order) that fits one
 * message; the last ends with those of the user's delivery states (`states`) that changed after `receiptsAfter`.
 */
function pageOf(
  deps: Deps,
  { frames: ordered, next }: OrderedFrames,
  states: readonly DeliveryState[],
  receiptsAfter: number | undefined,
): Omit<SyncPageFrame, 'requestId'> | Omit<QueueEmptyFrame, 'requestId'> {
  const frames: QueuedFrame[] = [];
  let bytes = 0;
  for (const frame of ordered) {
    // A frame is at most one 96 KiB message and its fields, so the first always fits.
    bytes += frameBytes(frame);
    if (frames.length > 0 && (bytes > PAGE_BYTES || frames.length === SYNC_PAGE_SIZE)) {
      return { type: 'SYNC_PAGE', frames, cursor: frames.at(-1)!.cursor! };
    }
    frames.push(frame);
  }
  if (next) return { type: 'SYNC_PAGE', frames, cursor: next };
  const after = (receiptsAfter ?? deps.now() - QUEUE_TTL_MS) - CLOCK_SKEW_MS;
  const receipts = deliveryChangedAfter(states, after, MAX_SYNC_DELIVERY_STATES).map(deliveryReceiptOf);
  // 100 states are some 35 KB: they fit a page of their own. When the queue's last frames leave no room
  // for them, the next SYNC, from those frames, answers them.
  if (frames.length > 0 && bytes + receipts.reduce((sum, receipt) => sum + frameBytes(receipt), 0) > PAGE_BYTES) {
    return { type: 'SYNC_PAGE', frames, cursor: frames.at(-1)!.cursor! };
  }
  return { type: 'QUEUE_EMPTY', frames: [...frames, ...receipts] };
}

/** What a DELIVERED took out of the device's queue, and the 1:1 conversations whose delivery state it moved. */
export interface Acknowledged {
  readonly taken: QueuedItem[];
  readonly movedStates: ReadonlySet<string>;
}

/**
 * Forgets the frames at these cursors, each by its key in the device's queue, and answers what the
 * acknowledgement means from the items themselves (never from the client's word): 1:1 messages move
 * their senders' delivery state (two grey ticks), group messages are counted towards their tallies
 * through the stream. Acknowledging twice, or a cursor never queued, is harmless: the second time there
 * is nothing to delete and nothing follows from it. When what follows fails, the items are queued again
 * before the error is answered; only a crash in between loses their ticks, until a later message's.
 */
export async function acknowledgeDelivered(deps: Deps, caller: Caller, cursors: readonly string[]): Promise<Acknowledged> {
  const device = queueOf(caller.userId, caller.deviceId);
  const taken = await Promise.all([...new Set(cursors)].map((cursor) => takeQueued(deps, device, cursor)));
  const items = taken.filter((item): item is QueuedItem => item !== undefined);
  const by = { userId: caller.userId, deviceId: caller.deviceId };
  // Receipts are not acknowledged with receipts, nor a user's own messages from another of its devices.
  const received = items.map((item) => item.frame).filter((frame): frame is PushFrame => frame.type === 'PUSH' && frame.from.userId !== caller.userId);
  try {
    const [movedStates] = await Promise.all([
      markDelivered(deps, by, received.filter((frame) => groupIdOfConversation(frame.conversationId) === undefined)),
      tallyGroupDeliveries(deps, by, received.filter((frame) => groupIdOfConversation(frame.conversationId) !== undefined)),
    ]);
    return { taken: items, movedStates };
  } catch (error) {
    // Put back what was taken (unless a retry queued it again meanwhile): the device gets it again and
    // acknowledges it again, so its ticks are not lost with this attempt.
    await Promise.all(items.map((item) => enqueue(deps, item)));
    throw error;
  }
}

/** A group's messages are counted per member by the fanout (lambdas/fanout/group-receipts.ts), one receipt record per sender. */
async function tallyGroupDeliveries(deps: Deps, by: { userId: string; deviceId: number }, messages: readonly PushFrame[]): Promise<void> {
  const bySender = new Map<string, PushFrame[]>();
  for (const message of messages) {
    const key = `${message.conversationId} ${message.from.userId}`;
    bySender.set(key, [...(bySender.get(key) ?? []), message]);
  }
  for (const delivered of bySender.values()) {
    const msgIds = delivered.map((message) => message.msgId);
    await putReceipt(deps, {
      kind: 'receipt',
      receiptId: receiptIdOf('delivered', by, msgIds),
      status: 'delivered',
      conversationId: delivered[0]!.conversationId,
      msgIds,
      by,
      recipients: [delivered[0]!.from.userId],
      serverTs: receiptServerTs(deps.now(), delivered.map((message) => message.serverTs)),
    });
  }
}

/** The answer to a DELIVERED that asked for one. */
export const deliveredAck = (cursors: string[]): Omit<DeliveredAckFrame, 'requestId'> => ({ type: 'DELIVERED_ACK', cursors });
