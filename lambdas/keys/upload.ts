/**
 * A device uploads its own public keys. Everything is checked before anything is written: the identity
 * key (set once, never changed), the first upload's completeness, every signature, the pool sizes. A
 * refused upload stores nothing; a repeated one changes nothing.
 */
import { ParleyError } from '../protocol/errors';
import { MAX_STORED_PREKEYS, type KeysUpload, type PrekeyCounts } from '../protocol/keys-api';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { getDeviceKeys, updateDeviceKeys, type DeviceKeysRecord } from '../tables/device-keys';
import { listPrekeyIds, poolOf, putPrekeys, type PrekeyKind } from '../tables/one-time-prekeys';
import { prekeyCounts } from './prekey-counts';
import { xeddsaVerifier } from './xeddsa';

const FIRST_UPLOAD_PARTS = ['identityKey', 'registrationId', 'signedPrekey', 'lastResortKyberPrekey'] as const;

/** The device's identity key, which the upload must not change; the first upload must be complete. */
function identityKeyOf(existing: DeviceKeysRecord | undefined, upload: KeysUpload): string {
  if (existing) {
    if (upload.identityKey !== undefined && upload.identityKey !== existing.identityKey) {
      throw new ParleyError(
        'IDENTITY_KEY_CHANGED',
        'This device has another identity key; a new identity needs a new registration or link. Nothing was stored',
      );
    }
    return existing.identityKey;
  }
  const missing = FIRST_UPLOAD_PARTS.filter((part) => upload[part] === undefined);
  if (missing.length > 0 || upload.identityKey === undefined) {
    throw new ParleyError('BAD_REQUEST', `The first upload of a device needs ${missing.join(', ')}; nothing was stored`, { missing });
  }
  return upload.identityKey;
}

/** Every signed key in the upload, by the field that holds it. */
function signedKeysOf(upload: KeysUpload): { field: string; keyId: number; publicKey: string; signature: string }[] {
  return [
    ...(upload.signedPrekey ? [{ field: 'signedPrekey', ...upload.signedPrekey }] : []),
    ...(upload.lastResortKyberPrekey ? [{ field: 'lastResortKyberPrekey', ...upload.lastResortKyberPrekey }] : []),
    ...(upload.kyberPrekeys ?? []).map((key, index) => ({ field: `kyberPrekeys.${index}`, ...key })),
  ];
}

function verifySignatures(identityKey: string, upload: KeysUpload): void {
  const verify = xeddsaVerifier(Buffer.from(identityKey, 'base64'));
  for (const { field, keyId, publicKey, signature } of signedKeysOf(upload)) {
    if (!verify(Buffer.from(publicKey, 'base64'), Buffer.from(signature, 'base64'))) {
      throw new ParleyError(
        'INVALID_SIGNATURE',
        `${field} (keyId ${keyId}): the signature does not verify against the device's identity key; nothing was stored`,
        { field, keyId },
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
  const identityKey = identityKeyOf(existing, upload);
  verifySignatures(identityKey, upload);
  const pool = poolOf(caller.userId, caller.deviceId);
  await checkPoolRoom(deps, pool, upload);

  // The record first: it fixes the identity key, so a racing upload with another one stores no prekeys.
  const stored = await updateDeviceKeys(deps, {
    userId: caller.userId,
    deviceId: caller.deviceId,
    identityKey,
    create: !existing,
    registrationId: upload.registrationId,
    signedPrekey: upload.signedPrekey,
    lastResortKyberPrekey: upload.lastResortKyberPrekey,
    clearLowNotice: Boolean(upload.oneTimePrekeys?.length || upload.kyberPrekeys?.length),
    updatedAt: deps.now(),
  });
  if (!stored) {
    // Another upload set a different identity key, or the device's keys were deleted, meanwhile.
    identityKeyOf(await getDeviceKeys(deps, caller.userId, caller.deviceId), upload);
    throw new Error('The device keys changed during the upload');
  }
  await Promise.all([
    putPrekeys(deps, pool, 'ec', upload.oneTimePrekeys ?? []),
    putPrekeys(deps, pool, 'kyber', upload.kyberPrekeys ?? []),
  ]);
  return prekeyCounts(deps, pool);
}
