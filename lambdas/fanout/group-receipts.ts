/**
 * Ticks in groups. The sender's devices get one receipt when every member has the message (two grey
 * ticks) and one when every member has read it (two blue ticks), not one per member device: a thousand
 * members would otherwise send back a thousand receipts per message. Delivery follows the members'
 * positions (`groupDelivery`): every message up to the lowest of them, the watermark, is with everyone, so
 * a member's return is counted once, not once per message it moved over. Reads are counted per message.
 * Who has what stays readable through the groups API.
 */
import { derivedId } from '../protocol/derived-id';
import type { ReceiptFrame } from '../protocol/frames';
import type { ReceiptRecord } from '../protocol/stream-records';
import type { Deps } from '../runtime/deps';
import { isAddressable, listDevices } from '../tables/devices';
import { positionOf, type QueueableFrame } from '../tables/device-queues';
import { getTally, markEveryone, tally, type GroupReceiptTally, type TallyStatus } from '../tables/group-receipts';
import { getWatermark, leaveWatermark, memberPositions, moveWatermark } from '../tables/group-delivery';
import { readTimeline } from '../tables/group-timeline';
import { receiptServerTs } from '../send/receipts';
import { queueAndPush } from './queue-and-push';
import { groupConversationId, groupIdOfConversation } from '../send/conversations';
import { getGroup } from '../tables/groups';

const counted = (entry: GroupReceiptTally, status: 'delivered' | 'read') =>
  status === 'delivered' ? (entry.deliveredCount ?? 0) + (entry.delivered?.size ?? 0) : (entry.read?.size ?? 0);

/** Whether this count completed the tally of the message in this group conversation. */
export const completes = (entry: GroupReceiptTally | undefined, status: TallyStatus, conversationId: string): entry is GroupReceiptTally =>
  entry !== undefined &&
  entry.control === undefined &&
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

/** Timeline entries one pass reads when the watermark moves (more are read page by page). */
const WATERMARK_PAGE = 100;

/**
 * A member's position moved on from `had` (`''`: it had none). Unless it stood at the watermark, nothing
 * follows; if it was the last member there, the watermark is computed again from every member's
 * position, and the sender of each message it moved over gets the "delivered to everyone" receipt. A tick
 * may come late (a crash between the member's write and this), never early.
 */
export async function memberMovedOn(deps: Deps, conversationId: string, had: string, by: ReceiptRecord['by']): Promise<void> {
  const mark = await getWatermark(deps, conversationId);
  if (mark && had > mark.upTo) return;
  if (mark && ((await leaveWatermark(deps, conversationId, mark.upTo)) ?? 1) > 0) return;
  await recomputeWatermark(deps, conversationId, mark?.upTo, by);
}

/**
 * Computes the watermark from the positions of the group's members now (a member with none, such as one of
 * a group from before positions were kept, holds it at the start) and tells the senders of the messages
 * it moved over.
 */
async function recomputeWatermark(deps: Deps, conversationId: string, from: string | undefined, by: ReceiptRecord['by']): Promise<void> {
  const [stored, group] = await Promise.all([memberPositions(deps, conversationId), getGroup(deps, groupIdOfConversation(conversationId) ?? '')]);
  if (!group) return;
  const held = new Map(stored.map((member) => [member.userId, member.position]));
  const positions = Object.keys(group.members).map((userId) => held.get(userId) ?? '');
  if (positions.length === 0) return;
  const upTo = positions.reduce((a, b) => (b < a ? b : a));
  if (!(await moveWatermark(deps, conversationId, from, { upTo, atMin: positions.filter((position) => position === upTo).length }))) return;
  if (from === undefined || upTo <= from) return;
  let after = from;
  for (;;) {
    const { entries, next } = await readTimeline(deps, conversationId, { after, upTo, limit: WATERMARK_PAGE });
    // An action or a message deleted for everyone gets no tick (and costs no read).
    for (const entry of entries.filter((entry) => !entry.control && !entry.revoked)) {
      const opened = await getTally(deps, entry.msgId);
      if (opened && opened.deliveredToAllAt === undefined && groupConversationId(opened.groupId) === conversationId) {
        await tellSenderEveryone(deps, opened, 'delivered', by, receiptServerTs(deps.now(), [entry.serverTs]));
      }
    }
    if (!next) return;
    after = next;
  }
}
