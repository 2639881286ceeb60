/**
 * A device's prekeys: the first publication, topping the pools up as peers use them, and rotating the
 * signed and last-resort prekeys, with private halves kept on the device only.
 */
import { randomUUID } from 'node:crypto';
import { InMemoryKeyDirectory } from '../support/in-memory-key-directory';
import { sdkDevice } from '../support/sdk-device';

const DAY = 24 * 60 * 60 * 1000;

describe('Prekeys', () => {
  it('publishes identity, signed, last-resort and one-time keys once, and only their public halves', async () => {
    const directory = new InMemoryKeyDirectory();
    const device = await sdkDevice(directory, undefined, { policy: { poolSize: 3 } });
    await device.prekeys.publish();
    expect(directory.uploads).toHaveLength(1);
    const [{ keys }] = directory.uploads as [(typeof directory.uploads)[0]];
    expect(keys).toMatchObject({ registrationId: device.local.identity.registrationId, signedPrekey: { keyId: 1 }, lastResortKyberPrekey: { keyId: 1 } });
    expect(keys.oneTimePrekeys!.map((key) => key.keyId)).toEqual([1, 2, 3]);
    expect(keys.kyberPrekeys!.map((key) => key.keyId)).toEqual([2, 3, 4]);
    expect(Buffer.from(keys.identityKey!, 'base64')).toEqual(Buffer.from(device.local.identity.identityKeyPair.publicKey.serialize()));
    const uploaded = JSON.stringify(keys);
    const privateKey = Buffer.from(device.local.identity.identityKeyPair.privateKey.serialize()).toString('base64');
    const prekeyPrivate = Buffer.from((await device.stores.prekeys.getPreKey(1)).privateKey().serialize()).toString('base64');
    expect(uploaded).not.toContain(privateKey);
    expect(uploaded).not.toContain(prekeyPrivate);
  });

  it('tops each pool up to its size as peers take keys, with ids never handed out twice', async () => {
    const directory = new InMemoryKeyDirectory();
    const device = await sdkDevice(directory, undefined, { policy: { poolSize: 5 } });
    const peer = directory.forDevice(randomUUID(), 1);
    for (let i = 0; i < 3; i++) await peer.fetchBundles([{ userId: device.self.userId }]);
    expect(await device.prekeys.replenish()).toEqual({ oneTimePrekeys: 5, kyberPrekeys: 5 });
    const second = directory.uploads[1]!.keys;
    expect(second.oneTimePrekeys!.map((key) => key.keyId)).toEqual([6, 7, 8]);
    expect(second.kyberPrekeys!.map((key) => key.keyId)).toEqual([7, 8, 9]);
    expect(second.signedPrekey).toBeUndefined();
    expect(await device.prekeys.replenish()).toEqual({ oneTimePrekeys: 5, kyberPrekeys: 5 });
    expect(directory.uploads).toHaveLength(2);
  });

  it('uploads at most the per-upload limit at a time, and shares one run between concurrent calls', async () => {
    const directory = new InMemoryKeyDirectory();
    const device = await sdkDevice(directory, undefined, { policy: { poolSize: 12, perUpload: 5 } });
    expect(directory.uploads.map((upload) => upload.keys.oneTimePrekeys!.length)).toEqual([5, 5, 2]);
    expect(directory.uploads.map((upload) => upload.keys.kyberPrekeys!.length)).toEqual([5, 5, 2]);
    const peer = directory.forDevice(randomUUID(), 1);
    for (let i = 0; i < 2; i++) await peer.fetchBundles([{ userId: device.self.userId }]);
    const runs = await Promise.all([device.prekeys.replenish(), device.prekeys.replenish()]);
    expect(runs).toEqual([
      { oneTimePrekeys: 12, kyberPrekeys: 12 },
      { oneTimePrekeys: 12, kyberPrekeys: 12 },
    ]);
    expect(directory.uploads).toHaveLength(4);
  });

  it('rotates the signed and last-resort prekeys when they are old, and forgets replaced ones after the grace period', async () => {
    const directory = new InMemoryKeyDirectory();
    let now = 1_000_000;
    const device = await sdkDevice(directory, undefined, { policy: { poolSize: 2, rotateAfterMs: 7 * DAY, keepReplacedMs: 31 * DAY }, now: () => now });
    now += 6 * DAY;
    await device.prekeys.replenish();
    expect(directory.uploads).toHaveLength(1);
    now += 2 * DAY;
    await device.prekeys.replenish();
    expect(directory.uploads[1]!.keys).toMatchObject({ signedPrekey: { keyId: 2 }, lastResortKyberPrekey: { keyId: 4 } });
    expect((await device.store.keys('signedPrekeys')).sort()).toEqual(['1', '2']);
    now += 40 * DAY;
    await device.prekeys.replenish();
    // The key replaced just now stays for the first messages already made with it; the older one goes.
    expect((await device.store.keys('signedPrekeys')).sort()).toEqual(['2', '3']);
    expect((await device.store.keys('lastResortKyberPrekeys')).sort()).toEqual(['4', '5']);
  });
});
