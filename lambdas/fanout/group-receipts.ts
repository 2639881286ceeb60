/**
 * Ticks in groups. Each member's DELIVERED and READ is counted per message (a delivery once per member, as
 * its `groupDelivery` position moves past the message: `lambdas/sync/group-delivered.ts`); the sender's devices get one
 * receipt when every member has the message (two grey ticks) and one when every member has read it (two
 * blue ticks), not one per member device: a thousand members would otherwise send back a thousand
 * receipts per message. Who has what stays readable through the groups API.
 */
import { derivedId } from '../protocol/derived-id';
import type { ReceiptFrame } from '../protocol/frames';
import type { ReceiptRecord } from '../protocol/stream-records';
import type { Deps } from '../runtime/deps';
import { isAddressable, listDevices } from '../tables/devices';
import { positionOf, type QueueableFrame } from '../tables/device-queues';
import { markEveryone, tally, type GroupReceiptTally, type TallyStatus } from '../tables/group-receipts';
import { queueAndPush } from './queue-and-push';
import { groupConversationId } from '../send/conversations';

const counted = (entry: GroupReceiptTally, status: 'delivered' | 'read') =>
  status === 'delivered' ? (entry.deliveredCount ?? 0) + (entry.delivered?.size ?? 0) : (entry.read?.size ?? 0);

/** Whether this count completed the tally of the message in this group conversation. */
export const completes = (entry: GroupReceiptTally | undefined, status: TallyStatus, conversationId: string): entry is GroupReceiptTally =>
  entry !== undefined &&
  groupConversationId(entry.groupId) === conversationId &&
  counted(entry, status) >= entry.recipients &&
  (status === 'delivered' ? entry.deliveredToAllAt : entry.readByAllAt) === undefined;

/**
 * The sender's devices get the one "everyone" receipt of a completed tally, queued before it is marked
 * sent: a retry after a crash between the two sends it again, same id.
 */
export async function tellSenderEveryone(
  deps: Deps,
  entry: GroupReceiptTally,
  status: TallyStatus,
  by: ReceiptRecord['by'],
  serverTs: number,
): Promise<void> {
  const receiptId = derivedId(`${status}-by-everyone:${entry.msgId}`);
  const frame: ReceiptFrame & QueueableFrame = {
    type: 'RECEIPT',
    receiptId,
    status,
    conversationId: groupConversationId(entry.groupId),
    msgIds: [entry.msgId],
    by,
    everyone: true,
    serverTs,
    cursor: positionOf(serverTs, receiptId),
  };
  const senderDevices = (await listDevices(deps, entry.sender)).filter(isAddressable);
  await Promise.all(senderDevices.map((device) => queueAndPush(deps, device.userId, device.deviceId, frame)));
  await markEveryone(deps, entry.msgId, status, deps.now());
}

/** Counts a member's receipt; when it completes a message, the sender's devices get the "everyone" receipt. */
export async function deliverGroupReceipt(deps: Deps, record: ReceiptRecord, deliverToOwnDevices: () => Promise<void>): Promise<void> {
  if (record.status === 'failed') return;
  const status = record.status;
  // Read state is shared with the reader's other devices, as in a 1:1 chat.
  if (status === 'read') await deliverToOwnDevices();
  for (const msgId of record.msgIds) {
    const entry = await tally(deps, msgId, status, record.by.userId);
    if (completes(entry, status, record.conversationId)) await tellSenderEveryone(deps, entry, status, record.by, record.serverTs);
  }
}
