/** Device secrets are high-entropy random strings, so a salted SHA-256 suffices; no slow KDF is needed. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface SecretHash {
  readonly secretSalt: string;
  readonly secretHash: string;
}

export function hashSecret(secret: string, secretSalt = randomBytes(16).toString('base64')): SecretHash {
  const secretHash = createHash('sha256').update(secretSalt).update(':').update(secret).digest('base64');
  return { secretSalt, secretHash };
}

/** Compares in constant time. */
export function secretMatches(secret: string, stored: SecretHash): boolean {
  const candidate = Buffer.from(hashSecret(secret, stored.secretSalt).secretHash, 'base64');
  const expected = Buffer.from(stored.secretHash, 'base64');
  return candidate.length === expected.length && timingSafeEqual(candidate, expected);
}

/** Compared against when the device does not exist, so a missing device takes as long as a wrong secret. */
export const UNKNOWN_DEVICE: SecretHash = hashSecret(randomBytes(32).toString('base64url'));
