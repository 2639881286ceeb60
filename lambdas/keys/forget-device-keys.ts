/** A device that leaves (removed, or its account registered anew) takes its keys with it. */
import type { Deps } from '../runtime/deps';
import { deleteDeviceKeys } from '../tables/device-keys';
import { deletePool, poolOf } from '../tables/one-time-prekeys';

/**
 * Deletes the device's public keys and one-time prekeys, so that nobody starts a session with a device
 * that is gone, and whoever gets its device id next starts without keys (and uploads a new identity).
 */
export async function forgetDeviceKeys(deps: Deps, userId: string, deviceId: number): Promise<void> {
  await deleteDeviceKeys(deps, userId, deviceId);
  await deletePool(deps, poolOf(userId, deviceId));
}
