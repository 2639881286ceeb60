import { sendToDevice } from '../connect/sessions';
import type { QueuedFrame } from '../protocol/frames';
import type { Deps } from '../runtime/deps';
import { enqueue, queueItemOf } from '../tables/device-queues';

/** Queue first, push second; a redelivered record finds its item queued and is not pushed again. */
export async function queueAndPush(
  deps: Deps,
  userId: string,
  deviceId: number,
  id: string,
  frame: QueuedFrame,
): Promise<'sent' | 'offline' | 'duplicate'> {
  const queued = await enqueue(deps, queueItemOf(userId, deviceId, id, frame));
  return queued === 'queued' ? sendToDevice(deps, userId, deviceId, frame) : 'duplicate';
}
