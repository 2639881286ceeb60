import { parseDeviceCredentials } from '../protocol/credentials';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { getDevice } from '../tables/devices';
import { secretMatches, UNKNOWN_DEVICE } from './device-secrets';

/** The device the Authorization header proves, or undefined when the credentials are malformed or wrong. */
export async function authenticateDevice(deps: Deps, authorization: string | undefined): Promise<Caller | undefined> {
  const credentials = parseDeviceCredentials(authorization);
  if (!credentials) return undefined;
  const device = await getDevice(deps, credentials.userId, credentials.deviceId);
  const matches = secretMatches(credentials.secret, device ?? UNKNOWN_DEVICE);
  return device && matches ? { userId: device.userId, deviceId: device.deviceId } : undefined;
}
