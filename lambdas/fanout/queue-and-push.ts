import { sendToDevice } from '../connect/sessions';
import type { QueuedFrame } from '../protocol/frames';
import type { Deps } from '../runtime/deps';
import { enqueue, queueItemOf } from '../tables/device-queues';
import { countDeliveries } from './delivery-metrics';
import { logger } from '../runtime/observability';

/** Queue first, push second; a redelivered record finds its item queued and is not pushed again. */
export async function queueAndPush(
  deps: Deps,
  userId: string,
  deviceId: number,
  id: string,
  frame: QueuedFrame,
): Promise<'sent' | 'offline' | 'duplicate'> {
  const queued = await enqueue(deps, queueItemOf(userId, deviceId, id, frame));
  if (queued !== 'queued') {
    logger.debug('Already queued', { recipient: `${userId}.${deviceId}`, frame: frame.type });
    return 'duplicate';
  }
  const sent = await sendToDevice(deps, userId, deviceId, frame);
  countDeliveries(deps, frame, sent === 'sent' ? 1 : 0, sent === 'sent' ? 0 : 1);
  logger.debug('Queued', { recipient: `${userId}.${deviceId}`, frame: frame.type, outcome: sent });
  return sent;
}
