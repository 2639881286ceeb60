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
import {
  getWatermark,
  leaveWatermark,
  markCounted,
  memberStandings,
  moveWatermark,
  type DeliveryWatermark,
  type MemberMove,
  type MemberStanding,
} from '../tables/group-delivery';
import { readTimeline } from '../tables/group-timeline';
import { receiptServerTs } from '../send/receipts';
import { queueAndPush } from './queue-and-push';
import { groupConversationId, groupIdOfConversation } from '../send/conversations';
import { getGroupMembers } from '../tables/groups';

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

/** How long a watermark stands before a group message's fan-out has it computed again (see `checkWatermark`). */
export const WATERMARK_RECHECK_MS = 15 * 60_000;

/** Timeline entries one pass reads when the watermark moves (more are read page by page). */
const WATERMARK_PAGE = 100;

/**
 * A member's position moved on, or the member left. Unless the watermark counted it at the position it
 * had (its item carries that position, see `markCounted`), nothing follows, and nothing is read: past the
 * watermark, it was counted elsewhere; short of it (a member who joined after the watermark was computed),
 * it was not counted. If it was the last member counted there, the watermark is computed again from every
 * member's position, and the sender of each message it moved over gets the "delivered to everyone"
 * receipt. A tick may come late (a crash between the member's write and this), never early.
 *
 * A member counted off twice (a retried leave, or counted out by a recomputation too, see there) only
 * makes the count short: computed again early. A mark naming a watermark that has moved on finds the
 * count's condition false and counts nothing. A count that leaves members there on a watermark that has
 * stood too long has it computed again too (see `checkWatermark`): it costs no read.
 */
export async function memberMovedOn(deps: Deps, conversationId: string, move: MemberMove, by: ReceiptRecord['by']): Promise<void> {
  if (!move.counted) return;
  const left = await leaveWatermark(deps, conversationId, move.had);
  // Members still counted there, on a watermark that has stood too long: one of them may have died
  // before counting itself out (see `checkWatermark`), and this costs no read to find.
  if (!left || (left.atMin > 0 && !hasStoodTooLong(deps, left))) return;
  await recomputeWatermark(deps, conversationId, move.had, by);
}

const hasStoodTooLong = (deps: Deps, mark: DeliveryWatermark) => deps.now() - (mark.setAt ?? 0) >= WATERMARK_RECHECK_MS;

/**
 * After a group message, computes the group's first watermark, or one that has stood too long: a member
 * that moved on and died before counting itself out (its retry finds its cursor moved, and counts nothing)
 * would otherwise hold the count above zero until another member counted there moves on (`memberMovedOn`),
 * or for good if it was the last. Computing it again from the positions is safe at any
 * time (a tick is never early) and costs one read per message and one recomputation per group per interval.
 */
export async function checkWatermark(deps: Deps, conversationId: string, by: ReceiptRecord['by']): Promise<void> {
  const mark = await getWatermark(deps, conversationId);
  if (mark && !hasStoodTooLong(deps, mark)) return;
  await recomputeWatermark(deps, conversationId, mark?.upTo, by);
}

/** The lowest of the members' positions (`''` for a member with none) and how many stand at it; none without members. */
function watermarkOf(members: readonly string[], held: ReadonlyMap<string, MemberStanding>): DeliveryWatermark | undefined {
  const positions = members.map((userId) => held.get(userId)?.position ?? '');
  if (positions.length === 0) return undefined;
  const upTo = positions.reduce((a, b) => (b < a ? b : a));
  return { upTo, atMin: positions.filter((position) => position === upTo).length };
}

/**
 * The watermark the positions of the group's members give now (a member with none, such as one of a
 * group from before positions were kept, holds it at the start), with the members and positions it was
 * computed from; none for a group gone or empty.
 */
async function currentWatermark(
  deps: Deps,
  conversationId: string,
): Promise<{ mark: DeliveryWatermark; members: string[]; held: Map<string, MemberStanding> } | undefined> {
  const [held, group] = await Promise.all([memberStandings(deps, conversationId), getGroupMembers(deps, groupIdOfConversation(conversationId) ?? '')]);
  const members = group ? Object.keys(group.members) : [];
  const mark = watermarkOf(members, held);
  return mark && { mark, members, held };
}

/**
 * Computes the watermark from the members' positions, tells the senders of the messages it moved over
 * (all up to it, for the group's first watermark: none was told before), and marks the members it counted
 * with it (those marked already at it are not written again).
 *
 * A member counted at the new watermark that moved on between the read of the positions and its mark
 * found no mark at the position it left: it counted itself out of nothing, and the new count would wait
 * for it forever. So the positions are read again after the marks and such members counted out here.
 * One that moved on after its mark counts itself out too: the count is then short, and the watermark
 * computed again early (from the positions: no tick too soon), never late.
 *
 * The second count is of the members the first read found (the group item, ~157 KB for 1,024 members,
 * is not read twice): only they were counted. Of those, one whose position was read the first time and
 * is gone now left the group meanwhile (leaving deletes it) and is left out, as a read of the group would
 * leave it out: its leaving counts it off if it stood at the watermark. A member who joined meanwhile
 * was not counted and is not here either; if it stands at the watermark, its moving on counts it off
 * all the same, and the count is short: computed again early, never late.
 */
async function recomputeWatermark(deps: Deps, conversationId: string, from: string | undefined, by: ReceiptRecord['by']): Promise<void> {
  for (;;) {
    const read = await currentWatermark(deps, conversationId);
    if (!read) return;
    const { mark, members, held } = read;
    if (!(await moveWatermark(deps, conversationId, from, mark))) return;
    if (from === undefined || mark.upTo > from) await tellSendersUpTo(deps, conversationId, from, mark.upTo, by);
    // Marked before the positions are read again: a member that moves on after its mark counts itself
    // out, one that moved before is counted out below, one in between both (short: computed again early).
    const counted = members.filter((userId) => (held.get(userId)?.position ?? '') === mark.upTo && held.get(userId)?.countedAt !== mark.upTo);
    await markCounted(deps, conversationId, counted, mark.upTo);
    const heldNow = await memberStandings(deps, conversationId);
    const now = watermarkOf(members.filter((userId) => heldNow.has(userId) || !held.has(userId)), heldNow);
    // Positions only grow: a lowest position past `upTo` means no member stands there any more.
    const stillAt = now?.upTo === mark.upTo ? now.atMin : 0;
    if (stillAt >= mark.atMin) return;
    if (((await leaveWatermark(deps, conversationId, mark.upTo, mark.atMin - stillAt))?.atMin ?? 1) > 0) return;
    from = mark.upTo;
  }
}

/** The sender of each message after `after` (from the start: none) up to `upTo` gets the "delivered to everyone" receipt it has not had. */
async function tellSendersUpTo(deps: Deps, conversationId: string, after: string | undefined, upTo: string, by: ReceiptRecord['by']): Promise<void> {
  for (;;) {
    const { entries, next } = await readTimeline(deps, conversationId, { ...(after !== undefined ? { after } : {}), upTo, limit: WATERMARK_PAGE });
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
