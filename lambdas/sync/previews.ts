/**
 * Chat-list previews that come with DELIVERED. A device writes previews for its own user's rows only, and
 * only for messages delivered to it: the conversation and serverTs of each come from the device's queued
 * message, never from the client.
 */
import type { MessagePreview, PushFrame } from '../protocol/frames';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { recordPreview } from '../tables/conversations';
import { groupIdOfConversation } from '../send/conversations';
import type { Acknowledged } from './queue-sync';

/**
 * Whether another device of the caller's user acknowledged this 1:1 message (or a newer one of its
 * conversation) first: then the delivery state did not move, and that device's DELIVERED stored the
 * preview already, so writing it again would only be a refused, and billed, conditional write.
 */
const previewedBySibling = (caller: Caller, message: PushFrame, movedStates: ReadonlySet<string>) =>
  message.from.userId !== caller.userId && groupIdOfConversation(message.conversationId) === undefined && !movedStates.has(message.conversationId);

/**
 * Stores each preview whose message this DELIVERED took from the caller's queue; answers the msgIds of
 * the others (never queued for this device, or acknowledged before, in which case the first DELIVERED
 * stored the preview, or naming two taken messages of different senders).
 */
export async function storeDeliveredPreviews(deps: Deps, caller: Caller, previews: readonly MessagePreview[], { taken, movedStates }: Acknowledged): Promise<string[]> {
  const stored = await Promise.all(
    previews.map(async ({ msgId, ciphertext }) => {
      const messages = taken.map((item) => item.frame).filter((frame): frame is PushFrame => frame.type === 'PUSH' && frame.msgId === msgId);
      // A msgId is unique per sender only: if two senders chose the same one, which conversation is meant is unknown.
      const [message, ...others] = messages;
      if (!message || others.length) return false;
      if (previewedBySibling(caller, message, movedStates)) return true;
      await recordPreview(deps, caller.userId, message.conversationId, { msgId, serverTs: message.serverTs, ciphertext });
      return true;
    }),
  );
  return previews.filter((_, i) => !stored[i]).map((preview) => preview.msgId);
}
