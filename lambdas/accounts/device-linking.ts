/**
 * Linking a device, WhatsApp's QR-code flow: a signed-in device asks for a short-lived token and shows
 * it; the new device presents it once, with a secret of its own, and joins the account.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ParleyError } from '../protocol/errors';
import type { RegisteredDevice } from '../protocol/accounts-api';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { addDevice, getDevice, listDevices } from '../tables/devices';
import { putLinkToken, takeLinkToken } from '../tables/link-tokens';
import { clearQueue, queueOf } from '../tables/device-queues';
import { forgetDeviceKeys } from '../keys/forget-device-keys';
import { LINK_TOKEN_TTL_MS, MAX_DEVICES, PRIMARY_DEVICE_ID } from './constants';
import { hashSecret } from './device-secrets';
import { listDeviceInGroups } from '../groups/member-devices';

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

const tooManyDevices = () =>
  new ParleyError('TOO_MANY_DEVICES', `An account has at most ${MAX_DEVICES} devices; remove one first`, {
    maxDevices: MAX_DEVICES,
  });

export async function createLinkToken(deps: Deps, caller: Caller): Promise<{ linkToken: string; expiresAt: number }> {
  if ((await listDevices(deps, caller.userId)).length >= MAX_DEVICES) throw tooManyDevices();
  const linkToken = randomBytes(32).toString('base64url');
  const expiresAt = deps.now() + LINK_TOKEN_TTL_MS;
  await putLinkToken(deps, {
    tokenHash: hashToken(linkToken),
    userId: caller.userId,
    issuedBy: caller.deviceId,
    expiresAt: Math.ceil(expiresAt / 1000),
  });
  return { linkToken, expiresAt };
}

export interface Linking {
  readonly linkToken: string;
  readonly deviceSecret: string;
  readonly deviceName: string;
}

/** Consumes the token and gives the new device the lowest free device id. */
export async function linkDevice(deps: Deps, linking: Linking): Promise<RegisteredDevice> {
  const token = await takeLinkToken(deps, hashToken(linking.linkToken));
  if (!token) throw new ParleyError('EXPIRED', 'The link token is unknown, used or expired; show a new QR code');
  const { userId } = token;
  // The device that showed the code may have been removed since: its token dies with it.
  if (!(await getDevice(deps, userId, token.issuedBy))) {
    throw new ParleyError('FORBIDDEN', 'The device that issued this link token was removed');
  }
  const taken = new Set((await listDevices(deps, userId)).map((device) => device.deviceId));
  const device = { userId, name: linking.deviceName, primary: false, ...hashSecret(linking.deviceSecret), createdAt: deps.now() };
  for (let deviceId = PRIMARY_DEVICE_ID + 1; deviceId <= MAX_DEVICES; deviceId++) {
    // A concurrent link may take the same id first: then try the next.
    if (!taken.has(deviceId) && (await addDevice(deps, { ...device, deviceId }))) {
      await clearQueue(deps, queueOf(userId, deviceId));
      await forgetDeviceKeys(deps, userId, deviceId);
      // Before the device learns its id, and so before it can connect: every group of the user lists it.
      await listDeviceInGroups(deps, userId, deviceId);
      return { userId, deviceId };
    }
  }
  throw tooManyDevices();
}
