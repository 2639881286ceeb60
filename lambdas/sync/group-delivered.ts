/**
 * Group acknowledgements, from DELIVERED `groups` or SYNC `groups`: a device acknowledges a group's
 * messages by cursor, as they are stored once per group rather than queued per device. Its cursor in the
 * group moves forward, its member's delivery position too (once per frame, not per message), and the
 * sender's ticks follow the group's watermark.
 */
import { MAX_ACKNOWLEDGED, type GroupCursor } from '../protocol/frames';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { readTimeline, type TimelineEntry } from '../tables/group-timeline';
import { memberMovedOn } from '../fanout/group-receipts';
import { advanceDeviceCursor, deviceCursorsRead } from '../tables/group-delivery';
import { groupWindowRowsRead } from '../tables/conversations';
import { batchGetTogether } from '../tables/batch-requests';
import { isForDevice, timelineWindows, type TimelineWindow } from './group-sync';

/** What acknowledging one group did: the messages for this device it moved over, and whether its preview was stored. */
export interface GroupAcknowledged {
  readonly delivered: number;
  readonly previewStored: boolean;
}

/** What a frame's group acknowledgements did: messages delivered, and the msgIds of the previews not stored. */
export interface GroupsAcknowledged {
  readonly delivered: number;
  readonly ignoredPreviews: string[];
}

const msgIdOf = (cursor: string) => cursor.slice(cursor.indexOf('#') + 1);

/** The entries an acknowledgement moves over: those at or before its cursor, at most {@link MAX_ACKNOWLEDGED} (the rest comes again at SYNC). */
export const acknowledgedEntries = (entries: readonly TimelineEntry[], ack: GroupCursor): TimelineEntry[] =>
  entries.filter((entry) => entry.position <= ack.cursor).slice(0, MAX_ACKNOWLEDGED);

/**
 * Moves the device's cursor in the window's group over `entries` (the timeline after `window.after`, in
 * order, at or before the acknowledged cursor), with its member's position, and stores the preview of
 * the message the cursor names. Nothing to move over changes nothing.
 */
export async function acknowledgeGroupEntries(
  deps: Deps,
  caller: Caller,
  window: TimelineWindow,
  ack: GroupCursor,
  entries: readonly TimelineEntry[],
): Promise<GroupAcknowledged> {
  const last = entries.at(-1);
  if (!last) return { delivered: 0, previewStored: false };
  const delivered = entries.filter(isForDevice(caller, window));
  // One write moves the device's cursor, keeps the preview of the message it names with it, and moves
  // its member's position (the furthest of its devices' cursors) unless another of its devices was
  // further; the sender's "delivered to everyone" tick follows the member (see `memberMovedOn`). A
  // failure between the two loses a tick (late or missing, never one too early). A repeat moves nothing
  // and stores no preview.
  // An action (`control`) is no chat-list line: a preview at its cursor is ignored, and named so.
  const named = delivered.find((entry) => entry.position === ack.cursor && entry.position === last.position && !entry.control);
  const preview = ack.ciphertext !== undefined && named ? { msgId: named.msgId, serverTs: named.serverTs, ciphertext: ack.ciphertext } : undefined;
  const { moved, memberMove } = await advanceDeviceCursor(deps, window.conversationId, caller.userId, caller.deviceId, last.position, preview);
  if (memberMove) await memberMovedOn(deps, window.conversationId, memberMove, { userId: caller.userId, deviceId: caller.deviceId });
  return { delivered: delivered.length, previewStored: moved && preview !== undefined };
}

/**
 * What a frame's acknowledgements did, from what each group's did (by conversationId): the messages
 * delivered, and the msgIds of the previews among `acks` that were not stored.
 */
export function groupsAcknowledged(acks: readonly GroupCursor[], done: ReadonlyMap<string, GroupAcknowledged>): GroupsAcknowledged {
  const delivered = [...done.values()].reduce((sum, group) => sum + group.delivered, 0);
  const ignoredPreviews = acks.filter((ack) => ack.ciphertext !== undefined && !done.get(ack.conversationId)?.previewStored).map((ack) => msgIdOf(ack.cursor));
  return { delivered, ignoredPreviews };
}

/**
 * DELIVERED `groups`: moves the device's cursor in each group to the cursor given, within its user's
 * membership and at most {@link MAX_ACKNOWLEDGED} messages on (the rest comes again at SYNC), with its
 * member's position. A cursor at or behind the device's, or in a group the user is not in, changes nothing.
 */
export async function acknowledgeGroupCursors(deps: Deps, caller: Caller, acknowledged: readonly GroupCursor[]): Promise<GroupsAcknowledged> {
  const asked = new Map(acknowledged.map((ack) => [ack.conversationId, ack]));
  // The device's own creation does not bound what it acknowledges: a cursor only ever moves over messages it was given.
  const named = [...asked.keys()];
  // The user's rows of the named groups and the device's cursor in each, in one request.
  const [rows, cursors] = await batchGetTogether(deps, [groupWindowRowsRead(caller.userId, named), deviceCursorsRead(caller.userId, caller.deviceId, named)] as const);
  const windows = timelineWindows(rows, cursors, { createdAt: 0 }, undefined);
  const done = new Map<string, GroupAcknowledged>();
  await Promise.all(
    windows.map(async (window) => {
      const ack = asked.get(window.conversationId)!;
      const upTo = window.upTo !== undefined && window.upTo < ack.cursor ? window.upTo : ack.cursor;
      if (upTo <= window.after) return;
      const { entries } = await readTimeline(deps, window.conversationId, { after: window.after, upTo, limit: MAX_ACKNOWLEDGED });
      done.set(window.conversationId, await acknowledgeGroupEntries(deps, caller, window, ack, entries));
    }),
  );
  return groupsAcknowledged(acknowledged, done);
}
