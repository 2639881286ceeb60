/**
 * Real libsignal keys for tests of the Key Distribution Service: a device's key material (private parts
 * stay here, as on a phone), the upload body the server sees, and a session started from a fetched bundle
 * the way a client starts one.
 */
import * as signal from '@signalapp/libsignal-client';
import { identityProofMessage, type DeviceBundle, type KeysUpload, type KyberPrekey, type OneTimePrekey, type SignedPrekey } from '../../lambdas/protocol/keys-api';

/** The account and device whose keys these are: the identity proof names them. */
export interface KeysOwner {
  readonly userId: string;
  readonly deviceId: number;
}

export const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));

/** What a device keeps of its keys. */
export class DeviceKeyMaterial {
  readonly identity = signal.IdentityKeyPair.generate();
  readonly registrationId = 1 + Math.floor(Math.random() * 16380);
  readonly signedPrekeys = new Map<number, signal.SignedPreKeyRecord>();
  readonly prekeys = new Map<number, signal.PreKeyRecord>();
  readonly kyberPrekeys = new Map<number, signal.KyberPreKeyRecord>();

  signedPrekey(keyId: number): SignedPrekey {
    const pair = signal.PrivateKey.generate();
    const signature = this.identity.privateKey.sign(pair.getPublicKey().serialize());
    this.signedPrekeys.set(keyId, signal.SignedPreKeyRecord.new(keyId, Date.now(), pair.getPublicKey(), pair, signature));
    return { keyId, publicKey: base64(pair.getPublicKey().serialize()), signature: base64(signature) };
  }

  kyberPrekey(keyId: number): KyberPrekey {
    const pair = signal.KEMKeyPair.generate();
    const signature = this.identity.privateKey.sign(pair.getPublicKey().serialize());
    this.kyberPrekeys.set(keyId, signal.KyberPreKeyRecord.new(keyId, Date.now(), pair, signature));
    return { keyId, publicKey: base64(pair.getPublicKey().serialize()), signature: base64(signature) };
  }

  oneTimePrekey(keyId: number): OneTimePrekey {
    const pair = signal.PrivateKey.generate();
    this.prekeys.set(keyId, signal.PreKeyRecord.new(keyId, pair.getPublicKey(), pair));
    return { keyId, publicKey: base64(pair.getPublicKey().serialize()) };
  }

  get identityKey(): string {
    return base64(this.identity.publicKey.serialize());
  }

  /** The identity key's signature of `owner`'s claim to it, as the first upload carries it. */
  identityProof(owner: KeysOwner): string {
    return base64(this.identity.privateKey.sign(Uint8Array.from(identityProofMessage(owner.userId, owner.deviceId)) as Uint8Array<ArrayBuffer>));
  }

  /**
   * `owner`'s first upload: identity and its proof, registration id, signed prekey 1, last-resort Kyber
   * prekey 1000, and `oneTime` one-time prekeys of each kind with ids from `firstKeyId`.
   */
  firstUpload(owner: KeysOwner, oneTime: number, firstKeyId = 1): Required<KeysUpload> {
    return {
      identityKey: this.identityKey,
      identityProof: this.identityProof(owner),
      registrationId: this.registrationId,
      signedPrekey: this.signedPrekey(1),
      lastResortKyberPrekey: this.kyberPrekey(1000),
      ...this.prekeyBatch(oneTime, firstKeyId),
    };
  }

  /** `count` one-time prekeys of each kind, ids from `firstKeyId`. */
  prekeyBatch(count: number, firstKeyId = 1): Required<Pick<KeysUpload, 'oneTimePrekeys' | 'kyberPrekeys'>> {
    const ids = Array.from({ length: count }, (_, i) => firstKeyId + i);
    return { oneTimePrekeys: ids.map((id) => this.oneTimePrekey(id)), kyberPrekeys: ids.map((id) => this.kyberPrekey(10_000 + id)) };
  }
}

class MemoryStores {
  readonly sessions = new Map<string, signal.SessionRecord>();
  readonly identities = new Map<string, signal.PublicKey>();
  constructor(readonly device: DeviceKeyMaterial) {}

  readonly sessionStore = new (class extends signal.SessionStore {
    constructor(private readonly outer: MemoryStores) {
      super();
    }
    async saveSession(name: signal.ProtocolAddress, record: signal.SessionRecord) {
      this.outer.sessions.set(name.toString(), record);
    }
    async getSession(name: signal.ProtocolAddress) {
      return this.outer.sessions.get(name.toString()) ?? null;
    }
    async getExistingSessions(addresses: signal.ProtocolAddress[]) {
      return addresses.map((address) => this.outer.sessions.get(address.toString())!);
    }
  })(this);

  readonly identityStore = new (class extends signal.IdentityKeyStore {
    constructor(private readonly outer: MemoryStores) {
      super();
    }
    async getIdentityKey() {
      return this.outer.device.identity.privateKey;
    }
    async getLocalRegistrationId() {
      return this.outer.device.registrationId;
    }
    async saveIdentity(name: signal.ProtocolAddress, key: signal.PublicKey) {
      const known = this.outer.identities.get(name.toString());
      this.outer.identities.set(name.toString(), key);
      return known && !known.equals(key) ? signal.IdentityChange.ReplacedExisting : signal.IdentityChange.NewOrUnchanged;
    }
    async isTrustedIdentity(name: signal.ProtocolAddress, key: signal.PublicKey) {
      const known = this.outer.identities.get(name.toString());
      return !known || known.equals(key);
    }
    async getIdentity(name: signal.ProtocolAddress) {
      return this.outer.identities.get(name.toString()) ?? null;
    }
  })(this);

  readonly prekeyStore = new (class extends signal.PreKeyStore {
    constructor(private readonly outer: MemoryStores) {
      super();
    }
    async savePreKey(id: number, record: signal.PreKeyRecord) {
      this.outer.device.prekeys.set(id, record);
    }
    async getPreKey(id: number) {
      const record = this.outer.device.prekeys.get(id);
      if (!record) throw new Error(`no prekey ${id}`);
      return record;
    }
    async removePreKey(id: number) {
      this.outer.device.prekeys.delete(id);
    }
  })(this);

  readonly signedPrekeyStore = new (class extends signal.SignedPreKeyStore {
    constructor(private readonly outer: MemoryStores) {
      super();
    }
    async saveSignedPreKey(id: number, record: signal.SignedPreKeyRecord) {
      this.outer.device.signedPrekeys.set(id, record);
    }
    async getSignedPreKey(id: number) {
      const record = this.outer.device.signedPrekeys.get(id);
      if (!record) throw new Error(`no signed prekey ${id}`);
      return record;
    }
  })(this);

  readonly kyberPrekeyStore = new (class extends signal.KyberPreKeyStore {
    constructor(private readonly outer: MemoryStores) {
      super();
    }
    async saveKyberPreKey(id: number, record: signal.KyberPreKeyRecord) {
      this.outer.device.kyberPrekeys.set(id, record);
    }
    async getKyberPreKey(id: number) {
      const record = this.outer.device.kyberPrekeys.get(id);
      if (!record) throw new Error(`no Kyber prekey ${id}`);
      return record;
    }
    async markKyberPreKeyUsed() {
      // Tests start each session once; a real client deletes one-time keys and remembers last-resort uses.
    }
  })(this);
}

/** libsignal's PreKeyBundle from a bundle as the server answers it. */
export function preKeyBundleOf(bundle: DeviceBundle): signal.PreKeyBundle {
  return signal.PreKeyBundle.new(
    bundle.registrationId,
    bundle.deviceId,
    bundle.prekey?.keyId ?? null,
    bundle.prekey ? signal.PublicKey.deserialize(bytes(bundle.prekey.publicKey)) : null,
    bundle.signedPrekey.keyId,
    signal.PublicKey.deserialize(bytes(bundle.signedPrekey.publicKey)),
    bytes(bundle.signedPrekey.signature),
    signal.PublicKey.deserialize(bytes(bundle.identityKey)),
    bundle.kyberPrekey.keyId,
    signal.KEMPublicKey.deserialize(bytes(bundle.kyberPrekey.publicKey)),
    bytes(bundle.kyberPrekey.signature),
  );
}

/**
 * Starts a session from `bundle` as a fresh sender would (processPreKeyBundle, signalEncrypt), and has
 * the bundle's device decrypt the first message with its own keys (signalDecryptPreKey). Answers the
 * plaintext the recipient read.
 */
export async function startSession(bundle: DeviceBundle, recipient: DeviceKeyMaterial, text: string): Promise<string> {
  const alice = new MemoryStores(new DeviceKeyMaterial());
  const bob = new MemoryStores(recipient);
  const aliceAddress = signal.ProtocolAddress.new('alice', 1);
  const bobAddress = signal.ProtocolAddress.new('bob', bundle.deviceId);
  await signal.processPreKeyBundle(preKeyBundleOf(bundle), bobAddress, aliceAddress, alice.sessionStore, alice.identityStore);
  const ciphertext = await signal.signalEncrypt(new Uint8Array(Buffer.from(text)), bobAddress, aliceAddress, alice.sessionStore, alice.identityStore);
  if (ciphertext.type() !== signal.CiphertextMessageType.PreKey) throw new Error('the first message of a session is a PreKey message');
  const plaintext = await signal.signalDecryptPreKey(
    signal.PreKeySignalMessage.deserialize(ciphertext.serialize()),
    aliceAddress,
    bobAddress,
    bob.sessionStore,
    bob.identityStore,
    bob.prekeyStore,
    bob.signedPrekeyStore,
    bob.kyberPrekeyStore,
  );
  return Buffer.from(plaintext).toString();
}
