/**
 * Ticks in groups. Each member's DELIVERED and READ is counted per message; the sender's devices get one
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
import { markEveryone, tally, type GroupReceiptTally } from '../tables/group-receipts';
import { queueAndPush } from './queue-and-push';
import { groupConversationId } from '../send/conversations';

const counted = (entry: GroupReceiptTally, status: 'delivered' | 'read') => (status === 'delivered' ? entry.delivered : entry.read)?.size ?? 0;

/** Counts a member's receipt; when it completes a message, the sender's devices get the "everyone" receipt. */
export async function deliverGroupReceipt(deps: Deps, record: ReceiptRecord, deliverToOwnDevices: () => Promise<void>): Promise<void> {
  if (record.status === 'failed') return;
  const status = record.status;
  // Read state is shared with the reader's other devices, as in a 1:1 chat.
  if (status === 'read') await deliverToOwnDevices();
  for (const msgId of record.msgIds) {
    const entry = await tally(deps, msgId, status, record.by.userId);
    if (!entry || groupConversationId(entry.groupId) !== record.conversationId || counted(entry, status) < entry.recipients) continue;
    const receiptId = derivedId(`${status}-by-everyone:${msgId}`);
    const frame: ReceiptFrame & QueueableFrame = {
      type: 'RECEIPT',
      receiptId,
      status,
      conversationId: record.conversationId,
      msgIds: [msgId],
      by: record.by,
      everyone: true,
      serverTs: record.serverTs,
      cursor: positionOf(record.serverTs, receiptId),
    };
    // Queued before it is marked sent: a retry after a crash between the two sends it again, same id.
    const senderDevices = (await listDevices(deps, entry.sender)).filter(isAddressable);
    await Promise.all(senderDevices.map((device) => queueAndPush(deps, device.userId, device.deviceId, frame)));
    await markEveryone(deps, msgId, status, deps.now());
  }
}
