/**
 * Waking an offline device: a message was queued for it and it has no live connection, so if it
 * registered a push token it gets a silent push, and connects and SYNCs.
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import type { Deps } from '../runtime/deps';
import { logger } from '../runtime/observability';
import { claimWakeUp, removePush, type DeviceRecord, type PushRegistration } from '../tables/devices';
import { pushEnabled } from './platform-applications';
import { endpointOwner, isDeadEndpoint, releaseEndpoint } from './platform-endpoints';
import { wakeUpMessage } from './wake-up-message';
import { METRIC, recordMetric } from '../runtime/metrics';

/**
 * At most one wake-up per device this often: a burst of messages to an offline device makes one push.
 * A device that connected since its last wake-up is due one at once, so a message after it disconnects
 * again wakes it.
 */
export const WAKE_UP_INTERVAL_MS = 30_000;

/**
 * Whether a device read a moment ago may be due a wake-up: it has a push registration not used within
 * `WAKE_UP_INTERVAL_MS`, or not since the device last connected. A group's fan-out asks this of the device records it has read before claiming
 * a wake-up, since each claim is a conditional write of the device, billed whether it holds or not: a
 * thousand offline members would otherwise cost a thousand writes per message, not per wake-up.
 */
export const mayBeDueWakeUp = (device: Pick<DeviceRecord, 'push' | 'lastConnectedAt'>, now: number): boolean => {
  const lastWokenAt = device.push?.lastWokenAt;
  if (!device.push) return false;
  return lastWokenAt === undefined || lastWokenAt < now - WAKE_UP_INTERVAL_MS || (device.lastConnectedAt !== undefined && lastWokenAt < device.lastConnectedAt);
};

/**
 * `sent`: a wake-up went out. `skipped`: push is off, the device has no push token, or it was woken less
 * than `WAKE_UP_INTERVAL_MS` ago. `forgotten`: SNS reported the endpoint disabled or gone, so the device's
 * registration was removed. `failed`: anything else; logged.
 */
export type WakeUpOutcome = 'sent' | 'skipped' | 'forgotten' | 'failed';

/**
 * Wakes the device if it has a push endpoint and was not woken lately. Never throws: the message is in
 * the device's queue already, and a wake-up is best effort (as Apple's and Google's delivery of it is).
 * Failing the stream record instead would hold back the conversation's later messages, and its retry
 * would find the message queued and not wake the device anyway.
 */
export async function wakeDevice(deps: Deps, userId: string, deviceId: number): Promise<WakeUpOutcome> {
  try {
    if (!pushEnabled(deps)) return 'skipped';
    const now = deps.now();
    const push = await claimWakeUp(deps, userId, deviceId, now - WAKE_UP_INTERVAL_MS, now);
    if (!push) return 'skipped';
    const outcome = await publishWakeUp(deps, userId, deviceId, push);
    recordMetric(METRIC.pushes, 1, { outcome });
    logger.info('Wake-up push', { userId, deviceId, platform: push.platform, outcome });
    return outcome;
  } catch (error) {
    logger.warn('Wake-up push failed', { userId, deviceId, error: error as Error });
    recordMetric(METRIC.pushes, 1, { outcome: 'failed' });
    return 'failed';
  }
}

async function publishWakeUp(deps: Deps, userId: string, deviceId: number, push: PushRegistration): Promise<WakeUpOutcome> {
  try {
    await deps.clients.sns.send(new PublishCommand({ TargetArn: push.endpointArn, ...wakeUpMessage(push.platform) }));
    return 'sent';
  } catch (error) {
    if (!isDeadEndpoint(error)) throw error;
    // Only this registration: the device may have registered its token again since the claim.
    if (await removePush(deps, userId, deviceId, push)) {
      await releaseEndpoint(deps, push.endpointArn, endpointOwner(userId, deviceId));
    }
    return 'forgotten';
  }
}
