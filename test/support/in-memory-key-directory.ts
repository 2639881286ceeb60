/**
 * The Key Distribution Service's behaviour in memory, for the SDK's unit tests: devices publish public
 * keys, a fetch takes one one-time prekey of each kind per device (the last-resort Kyber prekey when
 * none is left), and every call is recorded so a test can say which bundles were fetched.
 */
import type { BundleRequest, DeviceBundle, KeyDirectory, KeysUpload, OneTimePublicKey, PrekeyCounts, SignedPublicKey, UserBundles } from '../../client/key-directory';

interface PublishedDevice {
  registrationId: number;
  identityKey: string;
  signedPrekey: SignedPublicKey;
  lastResort: SignedPublicKey;
  prekeys: OneTimePublicKey[];
  kyber: SignedPublicKey[];
}

export class InMemoryKeyDirectory {
  readonly devices = new Map<string, Map<number, PublishedDevice>>();
  readonly fetches: BundleRequest[][] = [];
  readonly uploads: { device: string; keys: KeysUpload }[] = [];

  /** The directory as the device `userId.deviceId` reaches it (its uploads are its own). */
  forDevice(userId: string, deviceId: number): KeyDirectory {
    return {
      upload: async (keys) => this.upload(userId, deviceId, keys),
      fetchBundles: async (requests) => this.fetch(requests),
      countPrekeys: async () => this.count(userId, deviceId),
    };
  }

  removeDevice(userId: string, deviceId: number): void {
    this.devices.get(userId)?.delete(deviceId);
  }

  private upload(userId: string, deviceId: number, keys: KeysUpload): PrekeyCounts {
    this.uploads.push({ device: `${userId}.${deviceId}`, keys });
    const devices = this.devices.get(userId) ?? new Map<number, PublishedDevice>();
    this.devices.set(userId, devices);
    let device = devices.get(deviceId);
    if (!device) {
      if (!keys.identityKey || !keys.registrationId || !keys.signedPrekey || !keys.lastResortKyberPrekey) throw new Error('the first upload must carry the identity and signed keys');
      device = { registrationId: keys.registrationId, identityKey: keys.identityKey, signedPrekey: keys.signedPrekey, lastResort: keys.lastResortKyberPrekey, prekeys: [], kyber: [] };
      devices.set(deviceId, device);
    }
    if (keys.identityKey && keys.identityKey !== device.identityKey) throw new Error('IDENTITY_KEY_CHANGED');
    if (keys.signedPrekey) device.signedPrekey = keys.signedPrekey;
    if (keys.lastResortKyberPrekey) device.lastResort = keys.lastResortKyberPrekey;
    device.prekeys.push(...(keys.oneTimePrekeys ?? []));
    device.kyber.push(...(keys.kyberPrekeys ?? []));
    return this.count(userId, deviceId);
  }

  private fetch(requests: readonly BundleRequest[]): UserBundles[] {
    this.fetches.push(requests.map((request) => ({ ...request })));
    const answer: UserBundles[] = [];
    for (const { userId, deviceIds } of requests) {
      const bundles: DeviceBundle[] = [];
      for (const [deviceId, device] of this.devices.get(userId) ?? []) {
        if (deviceIds && !deviceIds.includes(deviceId)) continue;
        const prekey = device.prekeys.shift();
        const kyber = device.kyber.shift();
        bundles.push({
          deviceId,
          registrationId: device.registrationId,
          identityKey: device.identityKey,
          signedPrekey: device.signedPrekey,
          ...(prekey ? { prekey } : {}),
          kyberPrekey: kyber ?? device.lastResort,
          lastResort: !kyber,
        });
      }
      if (bundles.length) answer.push({ userId, devices: bundles });
    }
    return answer;
  }

  private count(userId: string, deviceId: number): PrekeyCounts {
    const device = this.devices.get(userId)?.get(deviceId);
    return { oneTimePrekeys: device?.prekeys.length ?? 0, kyberPrekeys: device?.kyber.length ?? 0 };
  }
}
