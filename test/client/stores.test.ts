/**
 * The SDK's durable stores: the key-value interface in memory and on disk, and libsignal's stores over it.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as signal from '@signalapp/libsignal-client';
import { FileStore } from '../../client/store/file-store';
import { namespaces as ns, type KeyValueStore } from '../../client/store/key-value-store';
import { MemoryStore } from '../../client/store/memory-store';
import { ProtocolStores } from '../../client/store/protocol-stores';

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(path.join(tmpdir(), 'parley-store-'));
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

const bytes = (text: string) => new Uint8Array(Buffer.from(text));
const text = (value: Uint8Array | undefined) => value && Buffer.from(value).toString();

describe.each([
  ['MemoryStore', () => new MemoryStore()],
  ['FileStore', () => new FileStore(path.join(folder, `store-${Math.random()}`))],
])('%s', (_name, make: () => KeyValueStore) => {
  it('gives back what was put, per namespace, and nothing for a missing key', async () => {
    const store = make();
    await store.put('sessions', 'bob.1', bytes('one'));
    await store.put('identities', 'bob.1', bytes('two'));
    expect(text(await store.get('sessions', 'bob.1'))).toBe('one');
    expect(text(await store.get('identities', 'bob.1'))).toBe('two');
    expect(await store.get('sessions', 'bob.2')).toBeUndefined();
    expect(await store.keys('nothing')).toEqual([]);
  });

  it('overwrites, deletes and lists keys of any characters', async () => {
    const store = make();
    const key = 'direct:a:b 9f/..\\x.1';
    await store.put('receivedSeq', key, bytes('1'));
    await store.put('receivedSeq', key, bytes('2'));
    await store.put('receivedSeq', 'other', bytes('3'));
    expect(text(await store.get('receivedSeq', key))).toBe('2');
    expect((await store.keys('receivedSeq')).sort()).toEqual([key, 'other'].sort());
    await store.delete('receivedSeq', key);
    await store.delete('receivedSeq', 'never there');
    expect(await store.keys('receivedSeq')).toEqual(['other']);
  });

  it('keeps its own copy of a value', async () => {
    const store = make();
    const value = bytes('abc');
    await store.put('prekeys', '1', value);
    value[0] = 0;
    const read = (await store.get('prekeys', '1'))!;
    read[1] = 0;
    expect(text(await store.get('prekeys', '1'))).toBe('abc');
  });
});

describe('FileStore', () => {
  it('keeps values across instances, in a folder only its owner can read', async () => {
    const directory = path.join(folder, 'durable');
    await new FileStore(directory).put('account', 'credentials', bytes('secret'));
    expect(text(await new FileStore(directory, { fsync: false }).get('account', 'credentials'))).toBe('secret');
    expect((await stat(path.join(directory, 'account'))).mode & 0o077).toBe(0);
  });

  it('refuses a namespace that could leave its folder', async () => {
    await expect(new FileStore(folder).put('../escape', 'k', bytes('x'))).rejects.toThrow('not a namespace name');
  });
});

describe('ProtocolStores', () => {
  const identity = { identityKeyPair: signal.IdentityKeyPair.generate(), registrationId: 42 };

  it('throws for a missing prekey, signed prekey or Kyber prekey, as libsignal expects', async () => {
    const stores = new ProtocolStores(new MemoryStore(), identity);
    await expect(stores.prekeys.getPreKey(7)).rejects.toThrow();
    await expect(stores.signedPrekeys.getSignedPreKey(7)).rejects.toThrow();
    await expect(stores.kyberPrekeys.getKyberPreKey(7)).rejects.toThrow();
    expect(await stores.sessions.getSession(signal.ProtocolAddress.new('bob', 1))).toBeNull();
  });

  it('deletes a one-time Kyber prekey when used, and refuses a last-resort one used twice with the same base key', async () => {
    const store = new MemoryStore();
    const stores = new ProtocolStores(store, identity);
    const kyber = (id: number) => {
      const pair = signal.KEMKeyPair.generate();
      return signal.KyberPreKeyRecord.new(id, 0, pair, identity.identityKeyPair.privateKey.sign(pair.getPublicKey().serialize()));
    };
    await stores.kyberPrekeys.saveKyberPreKey(1, kyber(1));
    await stores.kyberPrekeys.saveLastResortKyberPreKey(2, kyber(2));
    const baseKey = signal.PrivateKey.generate().getPublicKey();

    await stores.kyberPrekeys.markKyberPreKeyUsed(1, 1, baseKey);
    await expect(stores.kyberPrekeys.getKyberPreKey(1)).rejects.toThrow();

    await stores.kyberPrekeys.markKyberPreKeyUsed(2, 1, baseKey);
    await stores.kyberPrekeys.markKyberPreKeyUsed(2, 1, signal.PrivateKey.generate().getPublicKey());
    await expect(stores.kyberPrekeys.markKyberPreKeyUsed(2, 1, baseKey)).rejects.toThrow('already used');
    expect((await stores.kyberPrekeys.getKyberPreKey(2)).id()).toBe(2);
    expect(await store.keys(ns.kyberPrekeysUsed)).toHaveLength(2);
  });

  it('keeps the first identity of a device and reports a changed one', async () => {
    const changed: string[] = [];
    const stores = new ProtocolStores(new MemoryStore(), identity, (address) => changed.push(address.toString()));
    const bob = signal.ProtocolAddress.new('bob', 2);
    const first = signal.IdentityKeyPair.generate().publicKey;
    expect(await stores.identities.saveIdentity(bob, first)).toBe(signal.IdentityChange.NewOrUnchanged);
    expect(await stores.identities.saveIdentity(bob, first)).toBe(signal.IdentityChange.NewOrUnchanged);
    expect(changed).toEqual([]);
    const second = signal.IdentityKeyPair.generate().publicKey;
    expect(await stores.identities.saveIdentity(bob, second)).toBe(signal.IdentityChange.ReplacedExisting);
    expect(changed).toEqual(['bob.2']);
    expect((await stores.identities.getIdentity(bob))!.equals(second)).toBe(true);
  });
});
