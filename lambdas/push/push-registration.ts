/**
 * A device's push token: registered as an SNS endpoint on its platform's application, remembered on the
 * device's record, forgotten when the device asks, is removed or its account registers again.
 */
import { ParleyError } from '../protocol/errors';
import type { PushTokenRegistration } from '../protocol/push-api';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { logger } from '../runtime/observability';
import { removePush, setPush, type DeviceRecord } from '../tables/devices';
import { platformApplications } from './platform-applications';
import { endpointOwner, ensureEndpoint, releaseEndpoint } from './platform-endpoints';

/**
 * Makes the token the device's way to be woken. Idempotent: the same token again keeps its endpoint
 * (re-enabled if SNS had disabled it); a new token replaces the old one, whose endpoint is deleted.
 */
export async function registerPushToken(deps: Deps, caller: Caller, { platform, token }: PushTokenRegistration): Promise<void> {
  const applications = platformApplications(deps);
  const applicationArn = applications[platform];
  if (!applicationArn) {
    const platforms = Object.keys(applications);
    const available = platforms.length ? `it has ${platforms.join(', ')}` : 'push is off';
    throw new ParleyError('PUSH_UNAVAILABLE', `This server has no ${platform} push application (${available})`, { platforms });
  }
  const owner = endpointOwner(caller.userId, caller.deviceId);
  const endpointArn = await ensureEndpoint(deps, applicationArn, token, owner);
  const registration = { platform, endpointArn, registeredAt: deps.now() };
  const result = await setPush(deps, caller.userId, caller.deviceId, registration);
  if (!result.stored) {
    // The device was removed while this ran: its credentials are void, and so is the endpoint.
    await releaseEndpoint(deps, endpointArn, owner);
    throw new ParleyError('FORBIDDEN', 'This device was removed');
  }
  if (result.replaced && result.replaced.endpointArn !== endpointArn) {
    await releaseEndpoint(deps, result.replaced.endpointArn, owner);
  }
  logger.info('Push token registered', { ...caller, platform, replaced: Boolean(result.replaced) });
}

/** The device is no longer woken by push. Idempotent: a device without a token is left as it is. */
export async function unregisterPushToken(deps: Deps, caller: Caller): Promise<void> {
  const removed = await removePush(deps, caller.userId, caller.deviceId);
  if (removed) await releaseEndpoint(deps, removed.endpointArn, endpointOwner(caller.userId, caller.deviceId));
}

/** Deletes the endpoint of a device that was removed or replaced (its record is gone already). */
export async function releaseDevicePush(deps: Deps, device: Pick<DeviceRecord, 'userId' | 'deviceId' | 'push'>): Promise<void> {
  if (device.push) await releaseEndpoint(deps, device.push.endpointArn, endpointOwner(device.userId, device.deviceId));
}
