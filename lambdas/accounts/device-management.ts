import { ParleyError } from '../protocol/errors';
import type { DeviceSummary } from '../protocol/accounts-api';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { deleteDevice, getDevice, isAddressable, listDevices } from '../tables/devices';
import { endDeviceSession } from '../connect/sessions';
import { forgetDeviceKeys } from '../keys/forget-device-keys';
import { releaseDevicePush } from '../push/push-registration';

export async function listAccountDevices(deps: Deps, caller: Caller): Promise<DeviceSummary[]> {
  return (await listDevices(deps, caller.userId)).map((device) => ({
    deviceId: device.deviceId,
    name: device.name,
    primary: device.primary,
    createdAt: device.createdAt,
    hasKeys: isAddressable(device),
  }));
}

/**
 * The primary device removes linked devices; a linked device may remove itself. The removed device's
 * credentials stop working at once, its live connection is closed and its push endpoint deleted.
 */
export async function removeDevice(deps: Deps, caller: Caller, deviceId: number): Promise<void> {
  const [self, target] = await Promise.all([
    getDevice(deps, caller.userId, caller.deviceId),
    getDevice(deps, caller.userId, deviceId),
  ]);
  if (!target) throw new ParleyError('NOT_FOUND', `The account has no device ${deviceId}`);
  if (target.primary) {
    throw new ParleyError('FORBIDDEN', 'The primary device cannot be removed; register the number on a new phone instead');
  }
  if (deviceId !== caller.deviceId && !self?.primary) {
    throw new ParleyError('FORBIDDEN', 'Only the primary device removes other devices');
  }
  const removed = await deleteDevice(deps, caller.userId, deviceId);
  await endDeviceSession(deps, caller.userId, deviceId);
  await forgetDeviceKeys(deps, caller.userId, deviceId);
  if (removed) await releaseDevicePush(deps, removed);
}
