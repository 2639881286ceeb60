/**
 * libsignal's stores (sessions, identities, prekeys, signed prekeys, Kyber prekeys, sender keys), kept in
 * any {@link KeyValueStore}. libsignal reads and writes them during session setup, encryption and
 * decryption; it does no locking, so callers serialize work per remote address (see SessionManager).
 */
import * as signal from '@signalapp/libsignal-client';
import { namespaces as ns, type KeyValueStore } from './key-value-store';

/** How the SDK names a remote device in its stores and queues: `userId.deviceId`, as libsignal prints it. */
export const addressKey = (address: signal.ProtocolAddress) => `${address.name()}.${address.deviceId()}`;

export interface LocalIdentity {
  readonly identityKeyPair: signal.IdentityKeyPair;
  readonly registrationId: number;
}

/** Told when a peer's device shows an identity key other than the one stored for it (and the new one is kept). */
export type IdentityChangeListener = (address: signal.ProtocolAddress) => void;

/** Prekey getters throw when the key is missing, as libsignal expects. */
async function required(store: KeyValueStore, namespace: string, id: number): Promise<Uint8Array> {
  const bytes = await store.get(namespace, String(id));
  if (bytes === undefined) throw new Error(`no ${namespace} record with id ${id}`);
  return bytes;
}

const bytes = (value: Uint8Array) => Uint8Array.from(value) as Uint8Array<ArrayBuffer>;

export class StoredSessions extends signal.SessionStore {
  constructor(private readonly store: KeyValueStore) {
    super();
  }
  async saveSession(address: signal.ProtocolAddress, record: signal.SessionRecord): Promise<void> {
    await this.store.put(ns.sessions, addressKey(address), record.serialize());
  }
  async getSession(address: signal.ProtocolAddress): Promise<signal.SessionRecord | null> {
    const record = await this.store.get(ns.sessions, addressKey(address));
    return record ? signal.SessionRecord.deserialize(bytes(record)) : null;
  }
  async getExistingSessions(addresses: signal.ProtocolAddress[]): Promise<signal.SessionRecord[]> {
    const records = await Promise.all(addresses.map((address) => this.getSession(address)));
    return records.map((record, i) => {
      if (!record) throw new Error(`no session with ${addressKey(addresses[i]!)}`);
      return record;
    });
  }
}

/**
 * Trust on first use, WhatsApp's way: a changed identity key is accepted and replaces the stored one,
 * and the listener hears of it so the app can show "your security code with … changed".
 */
export class StoredIdentities extends signal.IdentityKeyStore {
  constructor(
    private readonly store: KeyValueStore,
    private readonly local: LocalIdentity,
    private readonly onChange: IdentityChangeListener,
  ) {
    super();
  }
  async getIdentityKey(): Promise<signal.PrivateKey> {
    return this.local.identityKeyPair.privateKey;
  }
  async getLocalRegistrationId(): Promise<number> {
    return this.local.registrationId;
  }
  async saveIdentity(address: signal.ProtocolAddress, key: signal.PublicKey): Promise<signal.IdentityChange> {
    const known = await this.getIdentity(address);
    if (known?.equals(key)) return signal.IdentityChange.NewOrUnchanged;
    await this.store.put(ns.identities, addressKey(address), key.serialize());
    if (!known) return signal.IdentityChange.NewOrUnchanged;
    this.onChange(address);
    return signal.IdentityChange.ReplacedExisting;
  }
  async isTrustedIdentity(): Promise<boolean> {
    return true;
  }
  async getIdentity(address: signal.ProtocolAddress): Promise<signal.PublicKey | null> {
    const key = await this.store.get(ns.identities, addressKey(address));
    return key ? signal.PublicKey.deserialize(bytes(key)) : null;
  }
}

export class StoredPrekeys extends signal.PreKeyStore {
  constructor(private readonly store: KeyValueStore) {
    super();
  }
  async savePreKey(id: number, record: signal.PreKeyRecord): Promise<void> {
    await this.store.put(ns.prekeys, String(id), record.serialize());
  }
  async getPreKey(id: number): Promise<signal.PreKeyRecord> {
    return signal.PreKeyRecord.deserialize(bytes(await required(this.store, ns.prekeys, id)));
  }
  async removePreKey(id: number): Promise<void> {
    await this.store.delete(ns.prekeys, String(id));
  }
}

export class StoredSignedPrekeys extends signal.SignedPreKeyStore {
  constructor(private readonly store: KeyValueStore) {
    super();
  }
  async saveSignedPreKey(id: number, record: signal.SignedPreKeyRecord): Promise<void> {
    await this.store.put(ns.signedPrekeys, String(id), record.serialize());
  }
  async getSignedPreKey(id: number): Promise<signal.SignedPreKeyRecord> {
    return signal.SignedPreKeyRecord.deserialize(bytes(await required(this.store, ns.signedPrekeys, id)));
  }
}

/**
 * One-time Kyber prekeys are deleted when used; the last-resort one stays (the server hands it out when
 * the one-time ones run out), so each (key, signed prekey, base key) it was used with is remembered and a
 * repeat is refused: otherwise a replayed first message would start its session again.
 */
export class StoredKyberPrekeys extends signal.KyberPreKeyStore {
  constructor(private readonly store: KeyValueStore) {
    super();
  }
  async saveKyberPreKey(id: number, record: signal.KyberPreKeyRecord): Promise<void> {
    await this.store.put(ns.kyberPrekeys, String(id), record.serialize());
  }
  async saveLastResortKyberPreKey(id: number, record: signal.KyberPreKeyRecord): Promise<void> {
    await this.store.put(ns.lastResortKyberPrekeys, String(id), record.serialize());
  }
  async getKyberPreKey(id: number): Promise<signal.KyberPreKeyRecord> {
    const record = (await this.store.get(ns.kyberPrekeys, String(id))) ?? (await this.store.get(ns.lastResortKyberPrekeys, String(id)));
    if (!record) throw new Error(`no Kyber prekey with id ${id}`);
    return signal.KyberPreKeyRecord.deserialize(bytes(record));
  }
  async markKyberPreKeyUsed(id: number, signedPreKeyId: number, baseKey: signal.PublicKey): Promise<void> {
    if (await this.store.get(ns.kyberPrekeys, String(id))) {
      await this.store.delete(ns.kyberPrekeys, String(id));
      return;
    }
    const use = `${id}.${signedPreKeyId}.${Buffer.from(baseKey.serialize()).toString('base64url')}`;
    if (await this.store.get(ns.kyberPrekeysUsed, use)) throw new Error(`last-resort Kyber prekey ${id} was already used with this base key`);
    await this.store.put(ns.kyberPrekeysUsed, use, new Uint8Array());
  }
}

export class StoredSenderKeys extends signal.SenderKeyStore {
  constructor(private readonly store: KeyValueStore) {
    super();
  }
  async saveSenderKey(sender: signal.ProtocolAddress, distributionId: signal.Uuid, record: signal.SenderKeyRecord): Promise<void> {
    await this.store.put(ns.senderKeys, `${addressKey(sender)}.${distributionId}`, record.serialize());
  }
  async getSenderKey(sender: signal.ProtocolAddress, distributionId: signal.Uuid): Promise<signal.SenderKeyRecord | null> {
    const record = await this.store.get(ns.senderKeys, `${addressKey(sender)}.${distributionId}`);
    return record ? signal.SenderKeyRecord.deserialize(bytes(record)) : null;
  }
}

/** The six stores libsignal needs, over one key-value store. */
export class ProtocolStores {
  readonly sessions: StoredSessions;
  readonly identities: StoredIdentities;
  readonly prekeys: StoredPrekeys;
  readonly signedPrekeys: StoredSignedPrekeys;
  readonly kyberPrekeys: StoredKyberPrekeys;
  readonly senderKeys: StoredSenderKeys;

  constructor(store: KeyValueStore, local: LocalIdentity, onIdentityChange: IdentityChangeListener = () => undefined) {
    this.sessions = new StoredSessions(store);
    this.identities = new StoredIdentities(store, local, onIdentityChange);
    this.prekeys = new StoredPrekeys(store);
    this.signedPrekeys = new StoredSignedPrekeys(store);
    this.kyberPrekeys = new StoredKyberPrekeys(store);
    this.senderKeys = new StoredSenderKeys(store);
  }
}
