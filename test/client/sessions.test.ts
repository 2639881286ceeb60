/**
 * Sessions between SDK devices in this process, through libsignal: setup from a fetched bundle (PQXDH),
 * the ratchet, and what the receiver does with a replayed, tampered or session-less ciphertext.
 */
import { randomUUID } from 'node:crypto';
import { DecryptFailure } from '../../client/session-manager';
import { InMemoryKeyDirectory } from '../support/in-memory-key-directory';
import { sdkDevice, type SdkDevice } from '../support/sdk-device';

const utf8 = (text: string) => new Uint8Array(Buffer.from(text));
const read = (bytes: Uint8Array) => Buffer.from(bytes).toString();

async function pair(): Promise<{ directory: InMemoryKeyDirectory; alice: SdkDevice; bob: SdkDevice }> {
  const directory = new InMemoryKeyDirectory();
  const alice = await sdkDevice(directory);
  const bob = await sdkDevice(directory);
  const [bundles] = await directory.forDevice(alice.self.userId, 1).fetchBundles([{ userId: bob.self.userId }]);
  await alice.sessions.startSession(bob.self.userId, bundles!.devices[0]!);
  return { directory, alice, bob };
}

describe('SessionManager', () => {
  it('starts a session from a bundle: PreKeySignalMessages until the peer replies, SignalMessages after', async () => {
    const { alice, bob } = await pair();
    const first = await alice.sessions.encrypt(bob.self, utf8('hello Bob'));
    const second = await alice.sessions.encrypt(bob.self, utf8('are you there?'));
    expect([first.type, second.type]).toEqual(['prekey', 'prekey']);
    expect(read(await bob.sessions.decrypt(alice.self, first))).toBe('hello Bob');
    expect(read(await bob.sessions.decrypt(alice.self, second))).toBe('are you there?');

    const reply = await bob.sessions.encrypt(alice.self, utf8('yes'));
    expect(reply.type).toBe('message');
    expect(read(await alice.sessions.decrypt(bob.self, reply))).toBe('yes');

    const after = await alice.sessions.encrypt(bob.self, utf8('good'));
    expect(after.type).toBe('message');
    expect(Buffer.from(after.ciphertext, 'base64').length).toBeLessThan(Buffer.from(first.ciphertext, 'base64').length / 4);
    expect(read(await bob.sessions.decrypt(alice.self, after))).toBe('good');
  });

  it('uses a one-time prekey of each kind per session and deletes the used Kyber prekey', async () => {
    const { directory, alice, bob } = await pair();
    expect(directory.devices.get(bob.self.userId)!.get(1)!.prekeys).toHaveLength(4);
    const first = await alice.sessions.encrypt(bob.self, utf8('hi'));
    await bob.sessions.decrypt(alice.self, first);
    expect(await bob.store.keys('prekeys')).toHaveLength(4);
    expect(await bob.store.keys('kyberPrekeys')).toHaveLength(4);
  });

  it('rejects a replayed ciphertext, a first message included, and keeps the session working', async () => {
    const { alice, bob } = await pair();
    const first = await alice.sessions.encrypt(bob.self, utf8('one'));
    await bob.sessions.decrypt(alice.self, first);
    await expect(bob.sessions.decrypt(alice.self, first)).rejects.toMatchObject({ reason: 'replayed' });

    const reply = await bob.sessions.encrypt(alice.self, utf8('two'));
    await alice.sessions.decrypt(bob.self, reply);
    const later = await alice.sessions.encrypt(bob.self, utf8('three'));
    await bob.sessions.decrypt(alice.self, later);
    await expect(bob.sessions.decrypt(alice.self, later)).rejects.toMatchObject({ reason: 'replayed' });
    expect(read(await bob.sessions.decrypt(alice.self, await alice.sessions.encrypt(bob.self, utf8('four'))))).toBe('four');
  });

  it('rejects a replayed first message that used the last-resort Kyber prekey', async () => {
    const directory = new InMemoryKeyDirectory();
    const alice = await sdkDevice(directory);
    const bob = await sdkDevice(directory, undefined, { policy: { poolSize: 0 } });
    const [bundles] = await directory.forDevice(alice.self.userId, 1).fetchBundles([{ userId: bob.self.userId }]);
    expect(bundles!.devices[0]).toMatchObject({ lastResort: true });
    expect(bundles!.devices[0]!.prekey).toBeUndefined();
    await alice.sessions.startSession(bob.self.userId, bundles!.devices[0]!);
    const first = await alice.sessions.encrypt(bob.self, utf8('hi'));
    expect(read(await bob.sessions.decrypt(alice.self, first))).toBe('hi');
    // Bob's session is gone (say, a restored backup): only the last-resort check stands between him and the replay.
    await bob.store.delete('sessions', `${alice.self.userId}.1`);
    await expect(bob.sessions.decrypt(alice.self, first)).rejects.toBeInstanceOf(DecryptFailure);
  });

  it('fails to decrypt a tampered ciphertext, and decrypts the untouched one after', async () => {
    const { alice, bob } = await pair();
    await bob.sessions.decrypt(alice.self, await alice.sessions.encrypt(bob.self, utf8('start')));
    await alice.sessions.decrypt(bob.self, await bob.sessions.encrypt(alice.self, utf8('ok')));
    const envelope = await alice.sessions.encrypt(bob.self, utf8('the real text'));
    const bytes = Buffer.from(envelope.ciphertext, 'base64');
    bytes[bytes.length - 12]! ^= 0x01;
    await expect(bob.sessions.decrypt(alice.self, { ...envelope, ciphertext: bytes.toString('base64') })).rejects.toMatchObject({ reason: 'invalid' });
    await expect(bob.sessions.decrypt(alice.self, { type: 'message', ciphertext: 'bm90IGEgbWVzc2FnZQ==' })).rejects.toMatchObject({ reason: 'invalid' });
    expect(read(await bob.sessions.decrypt(alice.self, envelope))).toBe('the real text');
  });

  it('reports a SignalMessage from a device it has no session with', async () => {
    const { alice, bob } = await pair();
    await bob.sessions.decrypt(alice.self, await alice.sessions.encrypt(bob.self, utf8('start')));
    const reply = await bob.sessions.encrypt(alice.self, utf8('to Alice'));
    const stranger = await sdkDevice(new InMemoryKeyDirectory(), { userId: alice.self.userId, deviceId: 1 });
    await expect(stranger.sessions.decrypt(bob.self, reply)).rejects.toMatchObject({ reason: 'no-session' });
  });

  it('serializes work per address: 50 encryptions at once all decrypt, in order', async () => {
    const { alice, bob } = await pair();
    const envelopes = await Promise.all(Array.from({ length: 50 }, (_, i) => alice.sessions.encrypt(bob.self, utf8(`m${i}`))));
    const texts = [];
    for (const envelope of envelopes) texts.push(read(await bob.sessions.decrypt(alice.self, envelope)));
    expect(texts).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
  });

  it('reports a peer device whose identity key changed, and keeps talking to it', async () => {
    const { directory, alice, bob } = await pair();
    await bob.sessions.decrypt(alice.self, await alice.sessions.encrypt(bob.self, utf8('hi')));
    // Bob's number is registered again on a new phone: same address, new identity.
    directory.removeDevice(bob.self.userId, 1);
    const newBob = await sdkDevice(directory, bob.self);
    const [bundles] = await directory.forDevice(alice.self.userId, 1).fetchBundles([{ userId: bob.self.userId }]);
    await alice.sessions.startSession(bob.self.userId, bundles!.devices[0]!);
    expect(alice.identityChanges).toEqual([bob.self]);
    const envelope = await alice.sessions.encrypt(bob.self, utf8('new phone?'));
    expect(read(await newBob.sessions.decrypt(alice.self, envelope))).toBe('new phone?');
  });

  it('keeps each device of a user apart', async () => {
    const directory = new InMemoryKeyDirectory();
    const alice = await sdkDevice(directory);
    const userId = randomUUID();
    const bobs = [await sdkDevice(directory, { userId, deviceId: 1 }), await sdkDevice(directory, { userId, deviceId: 2 })];
    const devices = await alice.recipients.devicesFor(userId);
    expect(devices).toEqual([
      { userId, deviceId: 1 },
      { userId, deviceId: 2 },
    ]);
    const envelopes = await Promise.all(devices.map((device) => alice.sessions.encrypt(device, utf8('to both'))));
    expect(envelopes[0]!.ciphertext).not.toBe(envelopes[1]!.ciphertext);
    expect(read(await bobs[1]!.sessions.decrypt(alice.self, envelopes[1]!))).toBe('to both');
    await expect(bobs[1]!.sessions.decrypt(alice.self, envelopes[0]!)).rejects.toBeInstanceOf(DecryptFailure);
  });
});
