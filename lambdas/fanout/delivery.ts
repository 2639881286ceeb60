/**
 * Delivering what the stream carries: for each addressed device, write its queue first, then push to its
 * live connection. A device that is offline finds it on its next SYNC; a message wakes it by silent push.
 */
import type { MessageRecord, ReceiptRecord } from '../protocol/stream-records';
import type { Deps } from '../runtime/deps';
import { isAddressable, listDevices } from '../tables/devices';
import { recordActivity } from '../tables/conversations';
import { positionOf, queueItemOf, type QueueableFrame, type QueuedItem } from '../tables/device-queues';
import { queueAndPushEach, queueAndPushToAll } from './queue-and-push';
import { wakeDevice } from '../push/wake-device';
import { deliverGroupReceipt } from './group-receipts';
import { groupIdOfConversation } from '../send/conversations';

/** The queue item a message makes for each device it addresses, in the order of its envelopes. */
export function queueItemsOfMessage(record: MessageRecord): QueuedItem[] {
  const cursor = positionOf(record.serverTs, record.msgId);
  return record.envelopes.map(({ userId, deviceId, type, ciphertext }) =>
    queueItemOf(userId, deviceId, {
      type: 'PUSH',
      msgId: record.msgId,
      conversationId: record.conversationId,
      from: record.from,
      seq: record.seq,
      serverTs: record.serverTs,
      envelope: { type, ciphertext },
      cursor,
    }, record.expiresInSeconds),
  );
}

export async function deliverMessage(deps: Deps, record: MessageRecord): Promise<void> {
  const items = queueItemsOfMessage(record);
  const offline = await queueAndPushEach(
    deps,
    record.envelopes.map(({ userId, deviceId }, index) => ({ userId, deviceId, frame: items[index]!.frame })),
    record.expiresInSeconds,
  );
  // The wake-ups and the chat lists at once, both after the queues: a message is never listed before it is stored.
  await Promise.all([
    // A message wakes the recipient's offline devices; the sender's own other devices, and receipts,
    // wait for the device's next connect rather than cost it battery. A wake-up never throws.
    ...offline.filter(({ userId }) => userId !== record.from.userId).map(({ userId, deviceId }) => wakeDevice(deps, userId, deviceId)),
    ...listMessage(deps, record),
  ]);
}

/** The message in both members' chat lists; none for an action on the chat (a reaction, an edit, a delete), which is no new activity in it. */
function listMessage(deps: Deps, record: MessageRecord): Promise<void>[] {
  if (record.control) return [];
  const { msgId, serverTs, conversationId } = record;
  return [
    recordActivity(deps, record.from.userId, conversationId, { msgId, serverTs, received: false, preview: record.preview }),
    // A withheld message (its recipient blocked the sender) never shows in the recipient's chat list.
    ...(record.to !== record.from.userId && !record.withheld ? [recordActivity(deps, record.to, conversationId, { msgId, serverTs, received: true })] : []),
  ];
}

/** A receipt goes to every device of each recipient user, but never back to the device it came from. */
export async function deliverReceipt(deps: Deps, record: ReceiptRecord): Promise<void> {
  if (groupIdOfConversation(record.conversationId) !== undefined) {
    return deliverGroupReceipt(deps, record, () => deliverToDevices(deps, { ...record, recipients: [record.by.userId] }));
  }
  return deliverToDevices(deps, record);
}

async function deliverToDevices(deps: Deps, record: ReceiptRecord): Promise<void> {
  const frame: QueueableFrame = {
    type: 'RECEIPT',
    receiptId: record.receiptId,
    status: record.status,
    conversationId: record.conversationId,
    msgIds: record.msgIds,
    by: record.by,
    serverTs: record.serverTs,
    cursor: positionOf(record.serverTs, record.receiptId),
  };
  // Only addressable devices, as for messages: a device gets ticks of what it could have been sent.
  const devices = (await Promise.all(record.recipients.map((userId) => listDevices(deps, userId)))).flat().filter(isAddressable);
  const others = devices.filter((device) => !(device.userId === record.by.userId && device.deviceId === record.by.deviceId));
  await queueAndPushToAll(deps, others, frame);
}
