/**
 * Handing out prekey bundles: per device of each user asked for, its identity key, signed prekey, one
 * one-time EC prekey if any is left, and a one-time Kyber prekey or else the last-resort one. A session
 * starts with or without the one-time keys.
 */
import type { DeviceBundle, KeysBatch, KeysTarget, UserBundles } from '../protocol/keys-api';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { listDeviceKeys, type DeviceKeysRecord } from '../tables/device-keys';
import { isAddressable, listDevices } from '../tables/devices';
import { poolOf, takePrekey } from '../tables/one-time-prekeys';
import { chargeKeyFetch } from './fetch-rate-limit';
import { noticeLowPrekeys } from './low-prekeys';

async function deviceBundle(deps: Deps, keys: DeviceKeysRecord): Promise<DeviceBundle> {
  const pool = poolOf(keys.userId, keys.deviceId);
  const [prekey, kyberPrekey] = await Promise.all([takePrekey(deps, pool, 'ec'), takePrekey(deps, pool, 'kyber')]);
  if (keys.lowNoticeAt === undefined) await noticeLowPrekeys(deps, keys.userId, keys.deviceId);
  return {
    deviceId: keys.deviceId,
    registrationId: keys.registrationId,
    identityKey: keys.identityKey,
    signedPrekey: keys.signedPrekey,
    ...(prekey ? { prekey: { keyId: prekey.keyId, publicKey: prekey.publicKey } } : {}),
    kyberPrekey: kyberPrekey
      ? { keyId: kyberPrekey.keyId, publicKey: kyberPrekey.publicKey, signature: kyberPrekey.signature! }
      : keys.lastResortKyberPrekey,
    lastResort: !kyberPrekey,
  };
}

/**
 * Only addressable devices the account still has: keys of a device removed midway through its cleanup,
 * or stored by an upload that has not yet made its device addressable, stay unseen.
 */
async function userBundles(deps: Deps, target: KeysTarget): Promise<UserBundles> {
  const [devices, keys] = await Promise.all([listDevices(deps, target.userId), listDeviceKeys(deps, target.userId)]);
  const current = new Set(devices.filter(isAddressable).map((device) => device.deviceId));
  const wanted = keys.filter(
    (device) => current.has(device.deviceId) && (!target.deviceIds || target.deviceIds.includes(device.deviceId)),
  );
  return { userId: target.userId, devices: await Promise.all(wanted.map((device) => deviceBundle(deps, device))) };
}

/** The bundles of the targets' devices, after charging the caller's rate limit (a refused fetch takes nothing). */
export async function fetchBundles(deps: Deps, caller: Caller, targets: readonly KeysTarget[]): Promise<KeysBatch> {
  await chargeKeyFetch(deps, caller, targets.map((target) => target.userId));
  const users = await Promise.all(targets.map((target) => userBundles(deps, target)));
  return {
    bundles: users.filter((user) => user.devices.length > 0),
    missing: users.filter((user) => user.devices.length === 0).map((user) => user.userId),
  };
}
