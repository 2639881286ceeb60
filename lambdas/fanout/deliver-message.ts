/**
 * Delivering one accepted message: for each addressed device, write its queue first, then push to its
 * live connection. A device that is offline finds the message on its next SYNC.
 */
import type { PushFrame } from '../protocol/frames';
import type { MessageRecord } from '../protocol/stream-records';
import type { Deps } from '../runtime/deps';
import { sendToDevice } from '../connect/sessions';
import { enqueue, positionOf, QUEUE_TTL_MS, queueOf } from '../tables/device-queues';

export async function deliverMessage(deps: Deps, record: MessageRecord): Promise<void> {
  const cursor = positionOf(record.serverTs, record.msgId);
  const expiresAt = Math.ceil((record.serverTs + QUEUE_TTL_MS) / 1000);
  await Promise.all(
    record.envelopes.map(async ({ userId, deviceId, type, ciphertext }) => {
      const frame: PushFrame = {
        type: 'PUSH',
        msgId: record.msgId,
        conversationId: record.conversationId,
        from: record.from,
        seq: record.seq,
        serverTs: record.serverTs,
        envelope: { type, ciphertext },
        cursor,
      };
      const queued = await enqueue(deps, { device: queueOf(userId, deviceId), position: cursor, msgId: record.msgId, frame, expiresAt });
      // A redelivered batch finds the item queued: that delivery happened, or the device gets it by SYNC.
      if (queued === 'queued') await sendToDevice(deps, userId, deviceId, frame);
    }),
  );
}
