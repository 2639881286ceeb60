/**
 * TYPING goes straight to the live connections of the conversation's other members: a read of who they
 * are, a read of their routes, one `@connections` post per device. No stream, no queue, no table write.
 *
 * Throttle: one frame per sending device, conversation and state every TYPING_INTERVAL_MS; more are
 * dropped silently. It is kept in the memory of each Lambda instance (a write per frame is what typing
 * must not cost), so it is exact for the frames one instance sees, and a flood spread over N warm
 * instances passes at most N per interval; API Gateway's throttle of the TYPING route caps all devices
 * together, and the SDK throttles itself to the same interval.
 */
import { DEVICE_IDS } from '../accounts/constants';
import { ParleyError } from '../protocol/errors';
import type { TypingFrame, TypingNoticeFrame } from '../protocol/frames';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { postFrame } from '../connect/connections';
import { mapConcurrently } from '../runtime/concurrency';
import { groupIdOfConversation, peerOf } from '../send/conversations';
import { blocksAmong } from '../tables/blocks';
import { getGroupMembers } from '../tables/groups';
import { listRoutes, routesOf, type RouteRecord } from '../tables/routing-table';

/** The least time between two relayed TYPING frames of one device, conversation and state. */
export const TYPING_INTERVAL_MS = 2000;
/** Entries the per-instance throttle keeps before it forgets those older than the interval. */
const THROTTLE_ENTRIES = 10_000;

const lastRelayed = new Map<string, number>();

/** Whether this frame comes too soon after the last one relayed; records it if not. */
function throttled(key: string, now: number): boolean {
  const last = lastRelayed.get(key);
  if (last !== undefined && now - last < TYPING_INTERVAL_MS) return true;
  if (lastRelayed.size >= THROTTLE_ENTRIES) {
    for (const [entry, at] of lastRelayed) if (now - at >= TYPING_INTERVAL_MS) lastRelayed.delete(entry);
  }
  lastRelayed.set(key, now);
  return false;
}

/**
 * The live routes of those who see the caller type: the peer of a 1:1 chat, unless either blocked the
 * other (then nobody, as if the peer were offline); the other members of a group.
 */
async function watchersOf(deps: Deps, caller: Caller, conversationId: string): Promise<RouteRecord[]> {
  const groupId = groupIdOfConversation(conversationId);
  if (groupId !== undefined) {
    const group = await getGroupMembers(deps, groupId);
    if (!group?.members[caller.userId]) throw new ParleyError('FORBIDDEN', 'The caller is not a member of this group');
    // The routes of the devices a member's entry lists (kept by links and membership changes, as the
    // fan-out reads them): 1,225 keys for a 1,024-member group, not 5,120; an entry that lists none, every id.
    const others = Object.entries(group.members).filter(([userId]) => userId !== caller.userId);
    return routesOf(deps, others.flatMap(([userId, member]) => (member.devices ?? DEVICE_IDS).map((deviceId) => ({ userId, deviceId }))));
  }
  const peer = peerOf(caller, conversationId);
  if (peer === caller.userId) return [];
  const [blocks, routes] = await Promise.all([
    blocksAmong(deps, [{ userId: peer, blockedUserId: caller.userId }, { userId: caller.userId, blockedUserId: peer }]),
    listRoutes(deps, peer),
  ]);
  return blocks.size ? [] : routes;
}

/** Relays the frame to the watchers' live devices; answers how many it reached, or 'throttled'. */
export async function relayTyping(deps: Deps, caller: Caller, frame: TypingFrame): Promise<number | 'throttled'> {
  if (throttled(`${caller.userId}.${caller.deviceId}:${frame.conversationId}:${frame.state}`, deps.now())) return 'throttled';
  const notice: TypingNoticeFrame = {
    type: 'TYPING',
    conversationId: frame.conversationId,
    from: { userId: caller.userId, deviceId: caller.deviceId },
    state: frame.state,
  };
  const routes = await watchersOf(deps, caller, frame.conversationId);
  const sent = await mapConcurrently(routes, 32, (route) => postFrame(deps, route.connectionId, notice));
  return sent.filter((outcome) => outcome === 'sent').length;
}
