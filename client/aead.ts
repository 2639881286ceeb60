/**
 * AES-256-GCM with a fresh random 96-bit nonce per message, sealed as `nonce (12) ‖ ciphertext ‖ tag (16)`.
 * Used for what the account's devices share beside Signal: chat-list previews and the sealed part of a
 * provisioning message. The additional data binds a ciphertext to where it belongs.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const AEAD_KEY_BYTES = 32;
/** What sealing adds to the plaintext's length. */
export const AEAD_OVERHEAD = NONCE_BYTES + TAG_BYTES;

export function seal(key: Uint8Array, plaintext: Uint8Array, additionalData: string): Uint8Array {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(additionalData, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return new Uint8Array(Buffer.concat([nonce, ciphertext, cipher.getAuthTag()]));
}

/** The plaintext, or `undefined` when the bytes were not sealed with this key and additional data (or were changed). */
export function open(key: Uint8Array, sealed: Uint8Array, additionalData: string): Uint8Array | undefined {
  if (sealed.length < AEAD_OVERHEAD) return undefined;
  const bytes = Buffer.from(sealed);
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, NONCE_BYTES));
  decipher.setAAD(Buffer.from(additionalData, 'utf8'));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  try {
    return new Uint8Array(Buffer.concat([decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)), decipher.final()]));
  } catch {
    return undefined;
  }
}
