/**
 * DELIVERED `groups`: a device acknowledges a group's messages by cursor, as they are stored once per
 * group rather than queued per device. Its cursor in the group moves forward, its member's delivery
 * position too (once per DELIVERED, not per message), and the sender's ticks follow the group's watermark.
 */
import { MAX_ACKNOWLEDGED, type GroupCursor } from '../protocol/frames';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { GROUP_CONVERSATION_PREFIX } from '../send/conversations';
import { conversationsStartingWith, recordPreview } from '../tables/conversations';
import { readTimeline } from '../tables/group-timeline';
import { isForDevice, timelineWindows } from './group-sync';
import { memberMovedOn } from '../fanout/group-receipts';
import { advanceDeviceCursor, standingsOfDevice } from '../tables/group-delivery';

/**
 * Moves the device's cursor in each group to the cursor given, within its user's membership and at most
 * {@link MAX_ACKNOWLEDGED} messages on (the rest comes again at SYNC), with its member's position.
 * A cursor at or behind the device's, or in a group the user is not in, changes nothing. Answers how
 * many messages it acknowledged and the msgIds of the previews not stored (the cursor named no message of the group's newly delivered to this device).
 */
export async function acknowledgeGroupCursors(
  deps: Deps,
  caller: Caller,
  acknowledged: readonly GroupCursor[],
): Promise<{ delivered: number; ignoredPreviews: string[] }> {
  let deliveredCount = 0;
  const asked = new Map(acknowledged.map((ack) => [ack.conversationId, ack]));
  const [rows, standings] = await Promise.all([
    conversationsStartingWith(deps, caller.userId, GROUP_CONVERSATION_PREFIX),
    standingsOfDevice(deps, caller.userId, caller.deviceId, [...asked.keys()]),
  ]);
  const cursors = new Map([...standings].flatMap(([conversationId, standing]) => (standing.cursor ? [[conversationId, standing.cursor] as const] : [])));
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
      // One write moves the device's cursor and, unless another of its devices was further, its member's
      // position; the sender's "delivered to everyone" tick follows the member (see `memberMovedOn`). A
      // failure between the two loses a tick (late or missing, never one too early). The preview is stored
      // alongside: it is kept only if newer than the row's, so a repeat stores nothing.
      const memberPosition = standings.get(window.conversationId)?.memberPosition;
      // An action (`control`) is no chat-list line: a preview at its cursor is ignored, and named so.
      const named = delivered.find((entry) => entry.position === ack.cursor && !entry.control);
      const [{ moved, memberHad }, previewStored] = await Promise.all([
        advanceDeviceCursor(deps, window.conversationId, caller.userId, caller.deviceId, last.position, memberPosition !== undefined && memberPosition >= last.position),
        ack.ciphertext !== undefined && named
          ? recordPreview(deps, caller.userId, window.conversationId, { msgId: named.msgId, serverTs: named.serverTs, ciphertext: ack.ciphertext })
          : false,
      ]);
      if (previewStored) ignored.delete(window.conversationId);
      if (moved && memberHad !== undefined) await memberMovedOn(deps, window.conversationId, memberHad, { userId: caller.userId, deviceId: caller.deviceId });
    }),
  );
  return { delivered: deliveredCount, ignoredPreviews: [...ignored].map((conversationId) => msgIdOf(asked.get(conversationId)!.cursor)) };
}
