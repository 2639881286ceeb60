/**
 * The Key Distribution Service's wire shapes, shared by its HTTP routes and its WebSocket frames. Every
 * key is base64 (standard alphabet, padded) of libsignal's serialized form; the server checks sizes and
 * type bytes here and signatures in the domain code, and never sees a private key.
 */
import * as z from './zod';

/** libsignal's serialized sizes and type bytes (the first byte of a serialized public key). */
export const keyFormats = {
  /** `PublicKey.serialize()`: 0x05 and a 32-byte Curve25519 key. Identity keys and EC prekeys. */
  curve25519: { bytes: 33, type: 0x05 },
  /** `KEMPublicKey.serialize()`: 0x08 and a 1,568-byte Kyber-1024 key. */
  kyber1024: { bytes: 1569, type: 0x08 },
  /** An XEdDSA signature by the identity key. */
  signature: { bytes: 64 },
} as const;

/** One-time prekeys of each kind in one upload (Signal-Server's limit). */
export const MAX_PREKEYS_PER_UPLOAD = 100;
/** One-time prekeys of each kind a device may have stored; an upload past it is refused (TOO_MANY_PREKEYS). */
export const MAX_STORED_PREKEYS = 200;
/** Below this many one-time prekeys of either kind, a take tells the device to upload more (PREKEYS_LOW). */
export const LOW_PREKEY_COUNT = 10;
/** Users in one `POST /v1/keys/batch`: a 1,024-member group takes 16 requests. */
export const MAX_USERS_PER_BATCH = 64;
/**
 * Users in one FETCH_KEYS frame: its answer must fit one 128 KB API Gateway message, and a user's 5
 * devices' bundles take up to about 13 KB (a Kyber key is 2,092 base64 characters).
 */
export const MAX_USERS_PER_FETCH_FRAME = 8;

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A serialized key or signature: strict base64 of exactly `bytes` bytes, starting with `type` if given. */
function serialized(what: string, format: { bytes: number; type?: number }) {
  const typeText = format.type === undefined ? '' : ` starting with 0x${format.type.toString(16).padStart(2, '0')}`;
  const described = `${what}: base64 of ${format.bytes} bytes${typeText}`;
  return z.string().check(
    z.maxLength(Math.ceil(format.bytes / 3) * 4, described),
    z.regex(STRICT_BASE64, described),
    z.refine((text) => {
      const decoded = Buffer.from(text, 'base64');
      return decoded.length === format.bytes && (format.type === undefined || decoded[0] === format.type);
    }, described),
  );
}

export const IdentityKey = serialized('an identity key (PublicKey.serialize())', keyFormats.curve25519);
const EcPublicKey = serialized('an EC public key (PublicKey.serialize())', keyFormats.curve25519);
const KyberPublicKey = serialized('a Kyber public key (KEMPublicKey.serialize())', keyFormats.kyber1024);
const Signature = serialized('an XEdDSA signature by the identity key', keyFormats.signature);

/** libsignal's prekey ids are 24-bit; 0 is not used. */
export const KeyId = z.number().check(z.int(), z.minimum(1), z.maximum(0xffffff));
/** A registration id is 14 bits (libsignal makes 1..16380); Signal-Server refuses 0. */
export const RegistrationId = z.number().check(z.int(), z.minimum(1), z.maximum(0x3fff));

export const SignedPrekey = z.strictObject({ keyId: KeyId, publicKey: EcPublicKey, signature: Signature });
export type SignedPrekey = z.infer<typeof SignedPrekey>;
export const OneTimePrekey = z.strictObject({ keyId: KeyId, publicKey: EcPublicKey });
export type OneTimePrekey = z.infer<typeof OneTimePrekey>;
export const KyberPrekey = z.strictObject({ keyId: KeyId, publicKey: KyberPublicKey, signature: Signature });
export type KyberPrekey = z.infer<typeof KyberPrekey>;

const uniqueKeyIds = (keys: readonly { keyId: number }[]) => new Set(keys.map((key) => key.keyId)).size === keys.length;

/** What the identity proof signs: the account and device that claim the identity key (UTF-8). */
export const identityProofMessage = (userId: string, deviceId: number): Uint8Array =>
  new Uint8Array(Buffer.from(`parley-identity-v1:${userId}:${deviceId}`, 'utf8'));

/**
 * What a device uploads of its own keys (`PUT /v1/keys/self`, UPLOAD_PREKEYS). The first upload must carry
 * the identity key with its proof, the registration id, signed prekey and last-resort Kyber prekey; later
 * ones any part. There is no device field: a device uploads its own keys only.
 */
export const keysUploadShape = {
  identityKey: z.optional(IdentityKey),
  /** XEdDSA signature by the identity key of {@link identityProofMessage}: the device holds that key's private half. */
  identityProof: z.optional(Signature),
  registrationId: z.optional(RegistrationId),
  signedPrekey: z.optional(SignedPrekey),
  lastResortKyberPrekey: z.optional(KyberPrekey),
  oneTimePrekeys: z.optional(
    z.array(OneTimePrekey).check(z.maxLength(MAX_PREKEYS_PER_UPLOAD), z.refine(uniqueKeyIds, 'two one-time prekeys with the same keyId')),
  ),
  kyberPrekeys: z.optional(
    z.array(KyberPrekey).check(z.maxLength(MAX_PREKEYS_PER_UPLOAD), z.refine(uniqueKeyIds, 'two Kyber prekeys with the same keyId')),
  ),
};
// Lazy and pure, as the frames are: bundles that only name a constant or the WebSocket frames' shapes leave them out.
export const KeysUpload = /* @__PURE__ */ z.lazy(() => z.strictObject(keysUploadShape));
export type KeysUpload = z.infer<typeof KeysUpload>;

/** One user whose bundles are wanted: all of its devices with keys, or only `deviceIds`. */
const DeviceIds = z.array(z.number().check(z.int(), z.minimum(1), z.maximum(127))).check(z.minLength(1), z.maxLength(127));

export const KeysTarget = z.strictObject({
  userId: z.uuid(),
  deviceIds: z.optional(DeviceIds),
});
export type KeysTarget = z.infer<typeof KeysTarget>;

export const keysTargets = (max: number) =>
  z
    .array(KeysTarget)
    .check(
      z.minLength(1),
      z.maxLength(max),
      z.refine((users) => new Set(users.map((user) => user.userId)).size === users.length, 'the same userId twice'),
    );

/** `POST /v1/keys/batch` */
export const KeysBatchBody = /* @__PURE__ */ z.lazy(() => z.strictObject({ users: keysTargets(MAX_USERS_PER_BATCH) }));

/** `GET /v1/keys/{userId}?deviceIds=2,3`: the query parameter, as text. */
export const DeviceIdsQuery = /* @__PURE__ */ z.lazy(() =>
  z.pipe(
    z.pipe(
      z.string().check(z.regex(/^\d{1,3}(,\d{1,3})*$/, 'deviceIds: device ids separated by commas, such as 2,3')),
      z.transform((text: string) => text.split(',').map(Number)),
    ),
    DeviceIds,
  ),
);

// ---- answers ---------------------------------------------------------------------------------

/** What one device publishes for a session to start with it (libsignal's PreKeyBundle, in parts). */
export interface DeviceBundle {
  deviceId: number;
  registrationId: number;
  identityKey: string;
  signedPrekey: SignedPrekey;
  /** A one-time EC prekey, handed out to this fetch only; absent when the device has none left. */
  prekey?: OneTimePrekey;
  /** A one-time Kyber prekey, or the last-resort one when none is left (`lastResort`). */
  kyberPrekey: KyberPrekey;
  lastResort: boolean;
}

/** The bundles of one user's devices that have uploaded keys. */
export interface UserBundles {
  userId: string;
  devices: DeviceBundle[];
}

/** One-time prekeys a device has left, per kind. */
export interface PrekeyCounts {
  oneTimePrekeys: number;
  kyberPrekeys: number;
}

/** The batch answer: one entry per user with keys; `missing` lists the users with none (or no account). */
export interface KeysBatch {
  bundles: UserBundles[];
  missing: string[];
}
