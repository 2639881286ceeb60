/**
 * Accepting a GROUP_SEND: only a current member may write, stamped once, on the stream once before the ACK
 * with the group's version, so the fanout delivers it to exactly the members the group had then.
 */
import { ParleyError } from '../protocol/errors';
import type { AckFrame, GroupSendFrame } from '../protocol/frames';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { getMembership } from '../tables/groups';
import { groupIdOfConversation } from './conversations';
import { admitMessage } from './admission';
import { streamOnce } from './stream-once';

/**
 * Accepts a GROUP_SEND that came on `connectionId`: its session, the device's token and the group's version
 * with the sender's own entry read at once ({@link admitMessage}; not the other members: a 1,024-member
 * group's item is ~134 KB, parsed for nothing), then its membership and version; only then is it stamped and stored.
 */
export async function acceptGroupMessage(deps: Deps, caller: Caller, frame: GroupSendFrame, connectionId: string): Promise<AckFrame> {
  // The frame's schema admits group conversations only.
  const groupId = groupIdOfConversation(frame.conversationId)!;
  const { charge, read } = await admitMessage(deps, caller, connectionId, frame, 'group', getMembership(deps, groupId, caller.userId));
  if (read.status === 'rejected') throw read.reason;
  const group = read.value;
  // Whether a group exists is no business of non-members.
  if (!group?.member) throw new ParleyError('FORBIDDEN', 'The sender is not a member of this group');
  if (frame.groupVersion !== group.version) {
    throw new ParleyError('STALE_GROUP', `The group is at version ${group.version}, not ${frame.groupVersion}: read it and send again`, {
      version: group.version,
    });
  }

  return streamOnce(deps, caller, frame, (serverTs) => ({
    kind: 'groupMessage',
    msgId: frame.msgId,
    conversationId: frame.conversationId,
    groupId,
    groupVersion: group.version,
    from: { userId: caller.userId, deviceId: caller.deviceId },
    seq: frame.seq,
    serverTs,
    ciphertext: frame.ciphertext,
    ...(frame.expiresInSeconds ? { expiresInSeconds: frame.expiresInSeconds } : {}),
    ...(frame.control ? { control: true as const } : {}),
  }), () => charge.stamp());
}
