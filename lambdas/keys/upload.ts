/**
 * A device uploads its own public keys. Everything is checked before anything is written: the identity
 * (key and registration id, set once, never changed), the first upload's completeness, the proof that
 * the device holds the identity key, every signature, the pool sizes. A refused upload stores nothing; a
 * repeated one changes nothing. The device becomes addressable (peers must write to it) once its keys are
 * stored, never before: a device without keys would block every SEND to its account.
 */
import { ParleyError } from '../protocol/errors';
import { identityProofMessage, MAX_STORED_PREKEYS, type KeysUpload, type PrekeyCounts } from '../protocol/keys-api';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { getDeviceKeys, updateDeviceKeys, type DeviceKeysRecord } from '../tables/device-keys';
import { setRegistrationId } from '../tables/devices';
import { listPrekeyIds, poolOf, putPrekeys, type PrekeyKind } from '../tables/one-time-prekeys';
import { prekeyCounts } from './prekey-counts';
import { xeddsaVerifier } from './xeddsa';

const FIRST_UPLOAD_PARTS = ['identityKey', 'identityProof', 'registrationId', 'signedPrekey', 'lastResortKyberPrekey'] as const;

type Identity = Pick<DeviceKeysRecord, 'identityKey' | 'registrationId'>;

/** The device's identity, which the upload must not change; the first upload must be complete. */
function identityOf(existing: DeviceKeysRecord | undefined, upload: KeysUpload): Identity {
  if (existing) {
    const changed = (['identityKey', 'registrationId'] as const).filter((part) => upload[part] !== undefined && upload[part] !== existing[part]);
    if (changed.length > 0) {
      throw new ParleyError(
        'IDENTITY_KEY_CHANGED',
        `This device has another ${changed.join(' and ')}; a new identity needs a new registration or link. Nothing was stored`,
        { changed },
      );
    }
    return existing;
  }
  const missing = FIRST_UPLOAD_PARTS.filter((part) => upload[part] === undefined);
  if (missing.length > 0 || upload.identityKey === undefined || upload.registrationId === undefined) {
    throw new ParleyError('BAD_REQUEST', `The first upload of a device needs ${missing.join(', ')}; nothing was stored`, { missing });
  }
  return { identityKey: upload.identityKey, registrationId: upload.registrationId };
}

interface SignedPart {
  readonly field: string;
  readonly keyId?: number;
  readonly message: Uint8Array;
  readonly signature: string;
}

const base64Bytes = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));

/**
 * Everything in the upload the identity key signs, by the field that holds it: the identity proof (this
 * account and device claim the key), the signed prekey and every Kyber prekey.
 */
function signedPartsOf(caller: Caller, upload: KeysUpload): SignedPart[] {
  const signedKey = (field: string, key: { keyId: number; publicKey: string; signature: string }): SignedPart => ({
    field,
    keyId: key.keyId,
    message: base64Bytes(key.publicKey),
    signature: key.signature,
  });
  return [
    ...(upload.identityProof
      ? [{ field: 'identityProof', message: identityProofMessage(caller.userId, caller.deviceId), signature: upload.identityProof }]
      : []),
    ...(upload.signedPrekey ? [signedKey('signedPrekey', upload.signedPrekey)] : []),
    ...(upload.lastResortKyberPrekey ? [signedKey('lastResortKyberPrekey', upload.lastResortKyberPrekey)] : []),
    ...(upload.kyberPrekeys ?? []).map((key, index) => signedKey(`kyberPrekeys.${index}`, key)),
  ];
}

function verifySignatures(caller: Caller, identityKey: string, upload: KeysUpload): void {
  const verify = xeddsaVerifier(base64Bytes(identityKey));
  for (const { field, keyId, message, signature } of signedPartsOf(caller, upload)) {
    if (!verify(message, base64Bytes(signature))) {
      const what = keyId === undefined ? field : `${field} (keyId ${keyId})`;
      throw new ParleyError(
        'INVALID_SIGNATURE',
        `${what}: the signature does not verify against the device's identity key; nothing was stored`,
        keyId === undefined ? { field } : { field, keyId },
      );
    }
  }
}

/** Refuses an upload that would leave more than MAX_STORED_PREKEYS of a kind (a key id stored already counts once). */
async function checkPoolRoom(deps: Deps, pool: string, upload: KeysUpload): Promise<void> {
  const batches: [PrekeyKind, readonly { keyId: number }[] | undefined][] = [
    ['ec', upload.oneTimePrekeys],
    ['kyber', upload.kyberPrekeys],
  ];
  for (const [kind, keys] of batches) {
    if (!keys?.length) continue;
    const stored = await listPrekeyIds(deps, pool, kind);
    const after = stored.size + keys.filter((key) => !stored.has(key.keyId)).length;
    if (after > MAX_STORED_PREKEYS) {
      throw new ParleyError(
        'TOO_MANY_PREKEYS',
        `A device stores at most ${MAX_STORED_PREKEYS} one-time prekeys of a kind; it has ${stored.size} ${kind} prekeys. Nothing was stored`,
        { maxStoredPrekeys: MAX_STORED_PREKEYS, kind, stored: stored.size },
      );
    }
  }
}

/** Checks and stores the caller's upload; answers how many one-time prekeys of each kind it has now. */
export async function uploadKeys(deps: Deps, caller: Caller, upload: KeysUpload): Promise<PrekeyCounts> {
  const existing = await getDeviceKeys(deps, caller.userId, caller.deviceId);
  const { identityKey, registrationId } = identityOf(existing, upload);
  verifySignatures(caller, identityKey, upload);
  const pool = poolOf(caller.userId, caller.deviceId);
  await checkPoolRoom(deps, pool, upload);

  // The record first: it fixes the identity key, so a racing upload with another one stores no prekeys.
  const stored = await updateDeviceKeys(deps, {
    userId: caller.userId,
    deviceId: caller.deviceId,
    identityKey,
    create: !existing,
    registrationId,
    signedPrekey: upload.signedPrekey,
    lastResortKyberPrekey: upload.lastResortKyberPrekey,
    clearLowNotice: Boolean(upload.oneTimePrekeys?.length || upload.kyberPrekeys?.length),
    updatedAt: deps.now(),
  });
  if (!stored) {
    // Another upload set a different identity key, or the device's keys were deleted, meanwhile.
    identityOf(await getDeviceKeys(deps, caller.userId, caller.deviceId), upload);
    throw new Error('The device keys changed during the upload');
  }
  await Promise.all([
    putPrekeys(deps, pool, 'ec', upload.oneTimePrekeys ?? []),
    putPrekeys(deps, pool, 'kyber', upload.kyberPrekeys ?? []),
  ]);
  // Last, and on every upload: an upload that failed after storing the keys is retried, and this finishes it.
  if (!(await setRegistrationId(deps, caller.userId, caller.deviceId, registrationId))) {
    throw new ParleyError('FORBIDDEN', 'This device was removed from its account during the upload');
  }
  return prekeyCounts(deps, pool);
}
