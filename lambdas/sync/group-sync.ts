/**
 * Group messages at SYNC: fan-out on read. A group message is stored once, in its group's timeline; a
 * device reads each of its groups' timelines after the furthest of the SYNC's cursor, its own cursor in
 * that group (what it acknowledged, kept in `groupDelivery`), the change that added its user and the time the
 * device was registered or linked (it has no Sender Key for anything older), up to the change that
 * removed its user, if any. Those frames are merged in position order with the device's queue.
 */
import { MAX_ACKNOWLEDGED, type GroupCursor, type PushFrame } from '../protocol/frames';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import type { GroupWindowRow } from '../tables/conversations';
import { positionOf, type QueueableFrame } from '../tables/device-queues';
import { getDevice, isAddressable } from '../tables/devices';
import { cursorsOfDevice } from '../tables/group-delivery';
import { readTimeline, type TimelineEntry } from '../tables/group-timeline';
import { acknowledgedEntries, acknowledgeGroupEntries, groupsAcknowledged, type GroupAcknowledged, type GroupsAcknowledged } from './group-delivered';

/** Frames in position order, and where the read stopped when more may follow (`undefined`: nothing more). */
export interface OrderedFrames {
  readonly frames: QueueableFrame[];
  readonly next?: string;
}

/** The window of the group's timeline a member device may read: after `after`, up to `upTo`. */
export interface TimelineWindow {
  readonly conversationId: string;
  readonly after: string;
  readonly upTo?: string;
  readonly joinedVersion?: number;
}

const later = (a: string, b: string | undefined): string => (b !== undefined && b > a ? b : a);

/** Where the device's reading of each of its groups starts and ends. */
export function timelineWindows(
  rows: readonly GroupWindowRow[],
  cursors: ReadonlyMap<string, string>,
  device: { createdAt: number },
  syncCursor: string | undefined,
): TimelineWindow[] {
  const linked = positionOf(device.createdAt, '');
  return rows
    .map((row) => {
      const after = [syncCursor, cursors.get(row.conversationId), row.joinedPosition].reduce<string>((start, position) => later(start, position), linked);
      return {
        conversationId: row.conversationId,
        after,
        ...(row.leftPosition !== undefined ? { upTo: row.leftPosition } : {}),
        ...(row.joinedVersion !== undefined ? { joinedVersion: row.joinedVersion } : {}),
      };
    })
    .filter((window) => window.upTo === undefined || window.upTo > window.after);
}

/** Whether a timeline entry is for this device: sent to its user's membership, not by the device itself. */
export const isForDevice = (caller: Caller, window: Pick<TimelineWindow, 'joinedVersion'>) => (entry: TimelineEntry): entry is TimelineEntry & { frame: PushFrame } =>
  entry.frame !== undefined &&
  !(entry.frame.from.userId === caller.userId && entry.frame.from.deviceId === caller.deviceId) &&
  (window.joinedVersion === undefined || entry.groupVersion === undefined || entry.groupVersion >= window.joinedVersion);

/** The user's rows of its groups (`groups`, which SYNC reads with its delivery states) and the device's cursor in each. */
export async function readDeviceGroups(
  deps: Deps,
  caller: Caller,
  groups: Promise<readonly GroupWindowRow[]>,
): Promise<{ rows: GroupWindowRow[]; cursors: Map<string, string> }> {
  const rows = [...(await groups)];
  if (rows.length === 0) return { rows, cursors: new Map() };
  return { rows, cursors: await cursorsOfDevice(deps, caller.userId, caller.deviceId, rows.map((row) => row.conversationId)) };
}

/** A group's frames for this SYNC page, and what its acknowledgement does (still under way). */
interface GroupPage extends OrderedFrames {
  readonly acknowledged: Promise<GroupAcknowledged>;
}

/**
 * Up to `limit` group messages per group after `syncCursor`, for the calling device, after it has
 * acknowledged `acks` (SYNC `groups`): an acknowledged group is read once, from the device's cursor, for
 * both what the acknowledgement moves over and the page after it. The page does not wait for the
 * acknowledgement's writes: `acknowledged` settles when they are done (the SYNC answers after it).
 * `groups`: the user's group rows, read by the SYNC with its delivery states.
 */
export async function groupFramesAfter(
  deps: Deps,
  caller: Caller,
  syncCursor: string | undefined,
  limit: number,
  acks: readonly GroupCursor[],
  groups: Promise<readonly GroupWindowRow[]>,
): Promise<{ sources: OrderedFrames[]; acknowledged: Promise<GroupsAcknowledged> }> {
  const [device, { rows, cursors }] = await Promise.all([getDevice(deps, caller.userId, caller.deviceId), readDeviceGroups(deps, caller, groups)]);
  // A device without keys was sent no group message: it has no session to get a Sender Key over.
  if (!device || !isAddressable(device)) return { sources: [], acknowledged: Promise.resolve(groupsAcknowledged(acks, new Map())) };
  const windows = timelineWindows(rows, cursors, device, undefined);
  const asked = new Map(acks.map((ack) => [ack.conversationId, ack]));
  const pages = await Promise.all(
    windows.map(async (window): Promise<GroupPage> => {
      const ack = asked.get(window.conversationId);
      const acknowledging = ack !== undefined && ack.cursor > window.after;
      const after = later(window.after, acknowledging ? undefined : syncCursor);
      const read = await readTimeline(deps, window.conversationId, { after, ...(window.upTo ? { upTo: window.upTo } : {}), limit: acknowledging ? MAX_ACKNOWLEDGED + limit : limit });
      const moved = acknowledging ? acknowledgedEntries(read.entries, ack) : [];
      const acknowledged = moved.length
        ? acknowledgeGroupEntries(deps, caller, window, ack!, moved)
        : Promise.resolve({ delivered: 0, previewStored: false });
      // Awaited below; a read failing in another group meanwhile must not leave its failure unhandled.
      acknowledged.catch(() => undefined);
      // The page starts after what was just acknowledged (and the SYNC's cursor); a read cut short by the page's limit ends at its last entry.
      const start = later(later(after, moved.at(-1)?.position), syncCursor);
      const rest = read.entries.filter((entry) => entry.position > start);
      const next = rest.length > limit ? rest[limit - 1]!.position : read.next;
      const frames = rest.slice(0, limit).filter(isForDevice(caller, window)).map((entry) => entry.frame);
      return { frames, ...(next ? { next } : {}), acknowledged };
    }),
  );
  const acknowledged = Promise.all(pages.map((page) => page.acknowledged)).then((done) =>
    groupsAcknowledged(acks, new Map(windows.map((window, i) => [window.conversationId, done[i]!]))),
  );
  // Awaited by the caller; until then a failure must not count as unhandled.
  acknowledged.catch(() => undefined);
  return { sources: pages.map(({ frames, next }) => ({ frames, ...(next ? { next } : {}) })), acknowledged };
}

/**
 * Merges sources that are each in position order into one: everything up to the first point where a
 * source may hold more it has not read, so that no frame of one source is skipped by the page cursor
 * moving past it on the strength of another.
 */
export function mergeInOrder(sources: readonly OrderedFrames[]): OrderedFrames {
  const bounds = sources.map((source) => source.next).filter((next): next is string => next !== undefined);
  const next = bounds.length ? bounds.reduce((a, b) => (b < a ? b : a)) : undefined;
  const frames = sources
    .flatMap((source) => source.frames)
    .filter((frame) => next === undefined || frame.cursor <= next)
    .sort((a, b) => (a.cursor < b.cursor ? -1 : a.cursor > b.cursor ? 1 : 0));
  return { frames, ...(next !== undefined ? { next } : {}) };
}
