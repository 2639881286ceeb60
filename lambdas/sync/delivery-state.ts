/**
 * Two grey ticks in a 1:1 conversation are its delivery state, not queued receipts: the first device of
 * the recipient to acknowledge a message moves its sender's "delivered up to" forward (one conditional
 * write; the recipient's other devices find it there and change nothing), and the sender's live devices
 * get the state as a RECEIPT at once. Nothing is queued, so nothing is acknowledged: a device that was
 * offline reads the states that changed meanwhile with its SYNC.
 */
import { derivedId } from '../protocol/derived-id';
import type { PushFrame, ReceiptFrame } from '../protocol/frames';
import type { Participant } from '../protocol/stream-records';
import { sendToLiveDevices } from '../connect/sessions';
import type { Deps } from '../runtime/deps';
import { advanceDelivered, type DeliveryState } from '../tables/conversations';
import { METRIC, recordMetric } from '../runtime/metrics';

/** The state as the RECEIPT a device of its user gets; the same state always has the same receiptId. */
export function deliveryReceiptOf(state: DeliveryState): ReceiptFrame {
  return {
    type: 'RECEIPT',
    receiptId: derivedId(`delivered-up-to:${state.conversationId}:${state.deliveredUpTo}`),
    status: 'delivered',
    conversationId: state.conversationId,
    msgIds: state.deliveredMsgIds,
    by: state.deliveredBy,
    upToServerTs: state.deliveredUpTo,
    serverTs: state.deliveredAt,
  };
}

/**
 * The device `by` stored these 1:1 messages from other users: each conversation's state moves up to the
 * newest of them, and where it moved, the sender's live devices are told. Answers the conversations
 * whose state this call moved: in the others a device of the same user got there first.
 */
export async function markDelivered(deps: Deps, by: Participant, messages: readonly PushFrame[]): Promise<Set<string>> {
  const newest = new Map<string, PushFrame[]>();
  for (const message of messages) newest.set(message.conversationId, [...(newest.get(message.conversationId) ?? []), message]);
  const moved = new Set<string>();
  await Promise.all(
    [...newest.values()].map(async (delivered) => {
      const upTo = delivered.reduce((a, b) => (b.serverTs > a.serverTs ? b : a));
      const state: DeliveryState = {
        conversationId: upTo.conversationId,
        deliveredUpTo: upTo.serverTs,
        deliveredMsgIds: delivered.map((message) => message.msgId),
        deliveredBy: by,
        // Later than every message it names, whatever this Lambda's clock says.
        deliveredAt: Math.max(deps.now(), upTo.serverTs + 1),
      };
      if (!(await advanceDelivered(deps, upTo.from.userId, state))) return;
      moved.add(state.conversationId);
      const live = await sendToLiveDevices(deps, upTo.from.userId, deliveryReceiptOf(state));
      if (live > 0) recordMetric(METRIC.liveDeliveries, live);
    }),
  );
  return moved;
}
