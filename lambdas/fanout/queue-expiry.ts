/**
 * A message that waited 30 days in a device's queue expired undelivered: its sender's devices get a
 * `failed` receipt (a permanent failure the app can show), through the same ordered path as other receipts.
 */
import type { ReceiptRecord } from '../protocol/stream-records';
import type { Deps } from '../runtime/deps';
import { defineHandler } from '../runtime/lambda-handler';
import { ttlDeletedItems } from '../runtime/stream-events';
import type { QueuedItem } from '../tables/device-queues';
import { putReceipt, receiptIdOf, receiptServerTs } from '../send/receipts';

/** The failed receipt an expired queue item calls for, if any: receipts themselves expire silently. */
export function failureReceiptOf(item: QueuedItem, now: number): ReceiptRecord | undefined {
  if (item.frame.type !== 'PUSH') return undefined;
  const [userId, deviceId] = item.device.split('#') as [string, string];
  const by = { userId, deviceId: Number(deviceId) };
  if (item.frame.from.userId === by.userId) return undefined;
  return {
    kind: 'receipt',
    receiptId: receiptIdOf('failed', by, [item.frame.msgId]),
    status: 'failed',
    conversationId: item.frame.conversationId,
    msgIds: [item.frame.msgId],
    by,
    recipients: [item.frame.from.userId],
    serverTs: receiptServerTs(now, [item.frame.serverTs]),
  };
}

export async function reportExpired(deps: Deps, items: QueuedItem[]): Promise<void> {
  for (const item of items) {
    const receipt = failureReceiptOf(item, deps.now());
    if (receipt) await putReceipt(deps, receipt);
  }
}

export const handler = defineHandler('queueExpiry', async (rawEvent, deps) => {
  await reportExpired(deps, ttlDeletedItems<QueuedItem>(rawEvent));
});
