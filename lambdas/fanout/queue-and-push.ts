import { sendToDevice, sendToDevices } from '../connect/sessions';
import type { Deps } from '../runtime/deps';
import { enqueue, enqueueAll, queueItemOf, type QueueableFrame } from '../tables/device-queues';
import { countDeliveries } from './delivery-metrics';
import { logger } from '../runtime/observability';

/** Queue first, push second; a redelivered record finds its item queued and is not pushed again. */
export async function queueAndPush(
  deps: Deps,
  userId: string,
  deviceId: number,
  frame: QueueableFrame,
): Promise<'sent' | 'offline' | 'duplicate'> {
  const queued = await enqueue(deps, queueItemOf(userId, deviceId, frame));
  if (queued !== 'queued') {
    logger.debug('Already queued', { recipient: `${userId}.${deviceId}`, frame: frame.type });
    return 'duplicate';
  }
  const sent = await sendToDevice(deps, userId, deviceId, frame);
  countDeliveries(deps, frame, sent === 'sent' ? 1 : 0, sent === 'sent' ? 0 : 1);
  logger.debug('Queued', { recipient: `${userId}.${deviceId}`, frame: frame.type, outcome: sent });
  return sent;
}

/** A frame for one device's queue. */
export interface Delivery {
  readonly userId: string;
  readonly deviceId: number;
  readonly frame: QueueableFrame;
}

/**
 * Queues each device its frame, then posts it to the devices with a live connection (their routes read
 * in batches while the items are written: nothing is posted before every item is stored); answers the
 * deliveries whose device was offline. A retried record writes the same items again (their content is
 * fixed by their key) and posts again: clients drop the repeat by id. `expiresInSeconds`: see {@link queueItemOf}.
 */
export async function queueAndPushEach<D extends Delivery>(deps: Deps, deliveries: readonly D[], expiresInSeconds?: number): Promise<D[]> {
  const queued = enqueueAll(deps, deliveries.map(({ userId, deviceId, frame }) => queueItemOf(userId, deviceId, frame, expiresInSeconds)));
  const [offline] = await Promise.all([sendToDevices(deps, deliveries, (delivery) => delivery.frame, queued), queued]);
  if (deliveries[0]) countDeliveries(deps, deliveries[0].frame, deliveries.length - offline.length, offline.length);
  const wasOffline = new Set(offline);
  for (const delivery of deliveries) {
    logger.debug('Queued', { recipient: `${delivery.userId}.${delivery.deviceId}`, frame: delivery.frame.type, outcome: wasOffline.has(delivery) ? 'offline' : 'sent' });
  }
  return offline;
}

/** The same frame for every device (a group's message or change, a receipt); answers the offline devices. */
export const queueAndPushToAll = <D extends { userId: string; deviceId: number }>(deps: Deps, devices: readonly D[], frame: QueueableFrame) =>
  queueAndPushEach(deps, devices.map((device) => ({ ...device, frame })));
