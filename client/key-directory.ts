/**
 * The Key Distribution Service, as the SDK sees it: upload this device's public keys, fetch other devices'
 * prekey bundles, count what is left. Every call to the service and every wire shape of it lives in this
 * file, so a change of the service's contract is a change here only. Keys travel as base64 of libsignal's
 * serialized forms; nothing private ever leaves the device.
 */
import * as signal from '@signalapp/libsignal-client';
import {
  identityProofMessage,
  MAX_USERS_PER_BATCH,
  type DeviceBundle,
  type KeysTarget,
  type KeysUpload,
  type OneTimePrekey,
  type PrekeyCounts,
  type SignedPrekey,
  type UserBundles,
} from '../lambdas/protocol/keys-api';
import { ParleyApiError } from './errors';
import type { HttpClient } from './http-client';

/** The service's wire shapes (lambdas/protocol/keys-api.ts), by the names the SDK uses. */
export type SignedPublicKey = SignedPrekey;
export type OneTimePublicKey = OneTimePrekey;
/** A user whose bundles are wanted: all of its devices with keys, or only `deviceIds`. */
export type BundleRequest = KeysTarget;
export type { DeviceBundle, KeysUpload, PrekeyCounts, UserBundles };

/** The calls the SDK makes of the Key Distribution Service. */
export interface KeyDirectory {
  upload(keys: KeysUpload): Promise<PrekeyCounts>;
  /** Bundles of the requested users' devices; each fetch takes one-time prekeys. Users with none are left out. */
  fetchBundles(requests: readonly BundleRequest[]): Promise<UserBundles[]>;
  countPrekeys(): Promise<PrekeyCounts>;
}

export interface HttpKeyDirectoryOptions {
  /** Wait out a RATE_LIMITED answer and retry when it asks for at most this long. @default 10 s */
  readonly maxRateLimitWaitMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The Key Distribution Service over the HTTP API, with this device's credentials. */
export class HttpKeyDirectory implements KeyDirectory {
  private readonly maxWaitMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly http: HttpClient,
    options: HttpKeyDirectoryOptions = {},
  ) {
    this.maxWaitMs = options.maxRateLimitWaitMs ?? 10_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  upload(keys: KeysUpload): Promise<PrekeyCounts> {
    return this.withRateLimit(() => this.http.request<PrekeyCounts>('PUT', '/v1/keys/self', keys));
  }

  async fetchBundles(requests: readonly BundleRequest[]): Promise<UserBundles[]> {
    const bundles: UserBundles[] = [];
    for (let i = 0; i < requests.length; i += MAX_USERS_PER_BATCH) {
      const users = requests.slice(i, i + MAX_USERS_PER_BATCH);
      const answer = await this.withRateLimit(() => this.http.request<{ bundles: UserBundles[] }>('POST', '/v1/keys/batch', { users }));
      bundles.push(...answer.bundles);
    }
    return bundles;
  }

  countPrekeys(): Promise<PrekeyCounts> {
    return this.withRateLimit(() => this.http.request<PrekeyCounts>('GET', '/v1/keys/self/count'));
  }

  private async withRateLimit<T>(call: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await call();
      } catch (error) {
        const waitMs = error instanceof ParleyApiError && error.code === 'RATE_LIMITED' ? (error.retryAfterSeconds ?? 1) * 1000 : Infinity;
        if (waitMs > this.maxWaitMs) throw error;
        await this.sleep(waitMs);
      }
    }
  }
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const fromB64 = (text: string) => Uint8Array.from(Buffer.from(text, 'base64')) as Uint8Array<ArrayBuffer>;

/** The public half of a signed EC or Kyber prekey record, as uploaded. */
export function signedPublicKey(record: signal.SignedPreKeyRecord | signal.KyberPreKeyRecord): SignedPublicKey {
  return { keyId: record.id(), publicKey: b64(record.publicKey().serialize()), signature: b64(record.signature()) };
}

export function oneTimePublicKey(record: signal.PreKeyRecord): OneTimePublicKey {
  return { keyId: record.id(), publicKey: b64(record.publicKey().serialize()) };
}

export const identityKeyText = (key: signal.PublicKey) => b64(key.serialize());

/** The first upload's proof that this device holds its identity key: the key signs the account and device claiming it. */
export const identityProof = (identityKeyPair: signal.IdentityKeyPair, userId: string, deviceId: number) =>
  b64(identityKeyPair.privateKey.sign(Uint8Array.from(identityProofMessage(userId, deviceId)) as Uint8Array<ArrayBuffer>));

/** A fetched device bundle as libsignal's PreKeyBundle, ready for `processPreKeyBundle`. */
export function toPreKeyBundle(bundle: DeviceBundle): signal.PreKeyBundle {
  return signal.PreKeyBundle.new(
    bundle.registrationId,
    bundle.deviceId,
    bundle.prekey ? bundle.prekey.keyId : null,
    bundle.prekey ? signal.PublicKey.deserialize(fromB64(bundle.prekey.publicKey)) : null,
    bundle.signedPrekey.keyId,
    signal.PublicKey.deserialize(fromB64(bundle.signedPrekey.publicKey)),
    fromB64(bundle.signedPrekey.signature),
    signal.PublicKey.deserialize(fromB64(bundle.identityKey)),
    bundle.kyberPrekey.keyId,
    signal.KEMPublicKey.deserialize(fromB64(bundle.kyberPrekey.publicKey)),
    fromB64(bundle.kyberPrekey.signature),
  );
}
