/**
 * This device's prekeys: the first publication (identity, signed prekey, last-resort Kyber prekey and
 * pools of one-time EC and Kyber prekeys), keeping the pools near their target as peers use them up, and
 * rotating the signed and last-resort prekeys. Private halves stay in the store; the server gets the
 * public halves only.
 */
import * as signal from '@signalapp/libsignal-client';
import {
  identityKeyText,
  identityProof,
  oneTimePublicKey,
  signedPublicKey,
  type KeyDirectory,
  type KeysUpload,
  type PrekeyCounts,
  type SignedPublicKey,
} from './key-directory';
import { getJson, namespaces as ns, putJson, type KeyValueStore } from './store/key-value-store';
import type { LocalDevice } from './local-device';
import type { ProtocolStores } from './store/protocol-stores';

export interface PrekeyPolicy {
  /** One-time prekeys of each kind kept on the server. @default 100 */
  readonly poolSize?: number;
  /** Most one-time prekeys of a kind in one upload (the service's limit). @default 100 */
  readonly perUpload?: number;
  /** A signed (and last-resort Kyber) prekey older than this is replaced. @default 7 days */
  readonly rotateAfterMs?: number;
  /**
   * A replaced signed prekey's private half is kept this long, for first messages still queued that were
   * made with it (the server keeps a queued message 30 days). @default 31 days
   */
  readonly keepReplacedMs?: number;
}

/** Ids and ages of the keys, kept in the store. libsignal's prekey ids are 24-bit; 0 is not used. */
interface KeyState {
  /** The first upload went through. */
  published: boolean;
  nextPrekeyId: number;
  nextKyberPrekeyId: number;
  nextSignedPrekeyId: number;
  /** The signed prekey the server serves, and when it was made; replaced ones are listed with their end. */
  signedPrekeyId: number;
  lastResortKyberPrekeyId: number;
  rotatedAt: number;
  replaced: { signedPrekeyId: number; lastResortKyberPrekeyId: number; replacedAt: number }[];
}

const MAX_KEY_ID = 0xffffff;
const DAY_MS = 24 * 60 * 60 * 1000;
const nextId = (id: number) => (id >= MAX_KEY_ID ? 1 : id + 1);

export class Prekeys {
  private readonly poolSize: number;
  private readonly perUpload: number;
  private readonly rotateAfterMs: number;
  private readonly keepReplacedMs: number;
  private running: Promise<PrekeyCounts> | undefined;

  constructor(
    private readonly store: KeyValueStore,
    private readonly stores: ProtocolStores,
    private readonly device: LocalDevice,
    private readonly directory: KeyDirectory,
    private readonly now: () => number,
    policy: PrekeyPolicy = {},
  ) {
    this.poolSize = policy.poolSize ?? 100;
    this.perUpload = policy.perUpload ?? 100;
    this.rotateAfterMs = policy.rotateAfterMs ?? 7 * DAY_MS;
    this.keepReplacedMs = policy.keepReplacedMs ?? 31 * DAY_MS;
  }

  /**
   * Publishes what a new device needs for peers to reach it, once (later calls do nothing). Ids are
   * stored as used before each upload, so a failed upload never hands an id out twice.
   */
  async publish(): Promise<void> {
    const stored = await getJson<KeyState>(this.store, ns.account, 'keyState');
    if (stored?.published) return;
    const state: KeyState = stored ?? { published: false, nextPrekeyId: 1, nextKyberPrekeyId: 1, nextSignedPrekeyId: 1, signedPrekeyId: 0, lastResortKyberPrekeyId: 0, rotatedAt: 0, replaced: [] };
    const { signedPrekey, lastResortKyberPrekey } = await this.makeSignedKeys(state);
    const { identity, credentials } = this.device;
    const first: KeysUpload = {
      identityKey: identityKeyText(identity.identityKeyPair.publicKey),
      identityProof: identityProof(identity.identityKeyPair, credentials.userId, credentials.deviceId),
      registrationId: identity.registrationId,
      signedPrekey,
      lastResortKyberPrekey,
      ...(await this.makeOneTimeKeys(state, Math.min(this.poolSize, this.perUpload), Math.min(this.poolSize, this.perUpload))),
    };
    await this.save(state);
    const counts = await this.directory.upload(first);
    await this.save({ ...state, published: true });
    await this.replenish(counts);
  }

  /**
   * Tops the pools up to the target and rotates an old signed prekey. Called at startup and on
   * PREKEYS_LOW; concurrent calls share one run.
   */
  replenish(counts?: PrekeyCounts): Promise<PrekeyCounts> {
    this.running ??= this.topUp(counts).finally(() => (this.running = undefined));
    return this.running;
  }

  private async topUp(known: PrekeyCounts | undefined): Promise<PrekeyCounts> {
    const state = await getJson<KeyState>(this.store, ns.account, 'keyState');
    if (!state?.published) throw new Error('no prekeys were published from this store');
    let counts = known ?? (await this.directory.countPrekeys());
    if (this.now() - state.rotatedAt >= this.rotateAfterMs) {
      const rotated = await this.makeSignedKeys(state);
      await this.save(state);
      counts = await this.directory.upload(rotated);
      await this.forgetOldSignedKeys(state);
      await this.save(state);
    }
    // A few rounds at most: a service that stores fewer than it was sent must not keep us uploading.
    for (let round = 0; round < 4; round++) {
      const prekeys = Math.min(this.perUpload, Math.max(0, this.poolSize - counts.oneTimePrekeys));
      const kyber = Math.min(this.perUpload, Math.max(0, this.poolSize - counts.kyberPrekeys));
      if (prekeys === 0 && kyber === 0) return counts;
      const upload = await this.makeOneTimeKeys(state, prekeys, kyber);
      await this.save(state);
      counts = await this.directory.upload(upload);
    }
    return counts;
  }

  private save(state: KeyState): Promise<void> {
    return putJson(this.store, ns.account, 'keyState', state);
  }

  private async makeSignedKeys(state: KeyState): Promise<{ signedPrekey: SignedPublicKey; lastResortKyberPrekey: SignedPublicKey }> {
    const identityKey = this.device.identity.identityKeyPair.privateKey;
    const now = this.now();
    if (state.signedPrekeyId) state.replaced.push({ signedPrekeyId: state.signedPrekeyId, lastResortKyberPrekeyId: state.lastResortKyberPrekeyId, replacedAt: now });

    const signedId = state.nextSignedPrekeyId;
    state.nextSignedPrekeyId = nextId(signedId);
    const ecKey = signal.PrivateKey.generate();
    const signed = signal.SignedPreKeyRecord.new(signedId, now, ecKey.getPublicKey(), ecKey, identityKey.sign(ecKey.getPublicKey().serialize()));
    await this.stores.signedPrekeys.saveSignedPreKey(signedId, signed);

    const kyberId = state.nextKyberPrekeyId;
    state.nextKyberPrekeyId = nextId(kyberId);
    const lastResort = signedKyberRecord(kyberId, now, identityKey);
    await this.stores.kyberPrekeys.saveLastResortKyberPreKey(kyberId, lastResort);

    Object.assign(state, { signedPrekeyId: signedId, lastResortKyberPrekeyId: kyberId, rotatedAt: now });
    return { signedPrekey: signedPublicKey(signed), lastResortKyberPrekey: signedPublicKey(lastResort) };
  }

  private async forgetOldSignedKeys(state: KeyState): Promise<void> {
    const cutoff = this.now() - this.keepReplacedMs;
    for (const old of state.replaced.filter((entry) => entry.replacedAt < cutoff)) {
      await this.store.delete(ns.signedPrekeys, String(old.signedPrekeyId));
      await this.store.delete(ns.lastResortKyberPrekeys, String(old.lastResortKyberPrekeyId));
    }
    state.replaced = state.replaced.filter((entry) => entry.replacedAt >= cutoff);
  }

  private async makeOneTimeKeys(state: KeyState, prekeys: number, kyber: number): Promise<Pick<KeysUpload, 'oneTimePrekeys' | 'kyberPrekeys'>> {
    const upload: Required<Pick<KeysUpload, 'oneTimePrekeys' | 'kyberPrekeys'>> = { oneTimePrekeys: [], kyberPrekeys: [] };
    for (let i = 0; i < prekeys; i++) {
      const id = state.nextPrekeyId;
      state.nextPrekeyId = nextId(id);
      const key = signal.PrivateKey.generate();
      const record = signal.PreKeyRecord.new(id, key.getPublicKey(), key);
      await this.stores.prekeys.savePreKey(id, record);
      upload.oneTimePrekeys.push(oneTimePublicKey(record));
    }
    for (let i = 0; i < kyber; i++) {
      const id = state.nextKyberPrekeyId;
      state.nextKyberPrekeyId = nextId(id);
      const record = signedKyberRecord(id, this.now(), this.device.identity.identityKeyPair.privateKey);
      await this.stores.kyberPrekeys.saveKyberPreKey(id, record);
      upload.kyberPrekeys.push(signedPublicKey(record));
    }
    return upload;
  }
}

function signedKyberRecord(id: number, now: number, identityKey: signal.PrivateKey): signal.KyberPreKeyRecord {
  const pair = signal.KEMKeyPair.generate();
  return signal.KyberPreKeyRecord.new(id, now, pair, identityKey.sign(pair.getPublicKey().serialize()));
}
