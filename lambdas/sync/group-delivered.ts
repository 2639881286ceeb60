/**
 * DELIVERED `groups`: a device acknowledges a group's messages by cursor, as they are stored once per
 * group rather than queued per device. Its cursor in the group moves forward, its member's delivery
 * position too, and each message the member did not have yet is counted once in its tally.
 */
import { MAX_ACKNOWLEDGED, type GroupCursor } from '../protocol/frames';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { GROUP_CONVERSATION_PREFIX } from '../send/conversations';
import { conversationsStartingWith, recordPreview } from '../tables/conversations';
import { advanceCursor, cursorsOfDevice } from '../tables/group-cursors';
import { readTimeline, type TimelineEntry } from '../tables/group-timeline';
import { isForDevice, timelineWindows } from './group-sync';
import { completes, tellSenderEveryone } from '../fanout/group-receipts';
import { receiptServerTs } from '../send/receipts';
import { countDelivered } from '../tables/group-receipts';
import { advanceMemberDelivery } from '../tables/group-delivery';

/**
 * The member has the messages up to `upTo` (on this device at least): each message of another member it
 * did not have yet is counted once in its tally, and one that completes its tally sends the sender's
 * "delivered to everyone" receipt. Counted before the device's cursor moves, so a DELIVERED retried after
 * a failure here counts what it had not; the member's position moves first, so nothing is counted twice
 * (a failure between the two loses counts: a tick late or missing, never one too early).
 */
async function countMemberDelivery(deps: Deps, caller: Caller, conversationId: string, delivered: readonly TimelineEntry[], upTo: string): Promise<void> {
  const had = await advanceMemberDelivery(deps, conversationId, caller.userId, upTo);
  if (had === undefined) return;
  const by = { userId: caller.userId, deviceId: caller.deviceId };
  for (const entry of delivered) {
    if (entry.position <= had || entry.from === caller.userId) continue;
    const tally = await countDelivered(deps, entry.msgId);
    if (completes(tally, 'delivered', conversationId)) await tellSenderEveryone(deps, tally, 'delivered', by, receiptServerTs(deps.now(), [entry.serverTs]));
  }
}

/**
 * Moves the device's cursor in each group to the cursor given, within its user's membership and at most
 * {@link MAX_ACKNOWLEDGED} messages on (the rest comes again at SYNC), after counting them.
 * A cursor at or behind the device's, or in a group the user is not in, changes nothing. Answers how
 * many messages it acknowledged and the msgIds of the previews not stored (the cursor named no message of the group's newly delivered to this device).
 */
export async function acknowledgeGroupCursors(
  deps: Deps,
  caller: Caller,
  acknowledged: readonly GroupCursor[],
): Promise<{ delivered: number; ignoredPreviews: string[] }> {
  let deliveredCount = 0;
  const [rows, cursors] = await Promise.all([
    conversationsStartingWith(deps, caller.userId, GROUP_CONVERSATION_PREFIX),
    cursorsOfDevice(deps, caller.userId, caller.deviceId),
  ]);
  const asked = new Map(acknowledged.map((ack) => [ack.conversationId, ack]));
  // The device's own creation does not bound what it acknowledges: a cursor only ever moves over messages it was given.
  const windows = timelineWindows(rows.filter((row) => asked.has(row.conversationId)), cursors, { createdAt: 0 }, undefined);
  const ignored = new Set(acknowledged.filter((ack) => ack.ciphertext !== undefined).map((ack) => ack.conversationId));
  const msgIdOf = (cursor: string) => cursor.slice(cursor.indexOf('#') + 1);
  await Promise.all(
    windows.map(async (window) => {
      const ack = asked.get(window.conversationId)!;
      const upTo = window.upTo !== undefined && window.upTo < ack.cursor ? window.upTo : ack.cursor;
      if (upTo <= window.after) return;
      const { entries } = await readTimeline(deps, window.conversationId, { after: window.after, upTo, limit: MAX_ACKNOWLEDGED });
      const delivered = entries.filter(isForDevice(caller, window));
      deliveredCount += delivered.length;
      const last = entries.at(-1);
      if (!last) return;
      await countMemberDelivery(deps, caller, window.conversationId, delivered, last.position);
      if ((await advanceCursor(deps, caller.userId, caller.deviceId, window.conversationId, last.position)) === undefined) return;
      const named = delivered.find((entry) => entry.position === ack.cursor);
      if (ack.ciphertext === undefined || !named) return;
      await recordPreview(deps, caller.userId, window.conversationId, { msgId: named.msgId, serverTs: named.serverTs, ciphertext: ack.ciphertext });
      ignored.delete(window.conversationId);
    }),
  );
  return { delivered: deliveredCount, ignoredPreviews: [...ignored].map((conversationId) => msgIdOf(asked.get(conversationId)!.cursor)) };
}
