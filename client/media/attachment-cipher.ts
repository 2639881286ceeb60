/**
 * Signal's attachment encryption, streamed so that memory does not grow with the file.
 *
 * Key: 64 random bytes, a fresh one per attachment: the first 32 are the AES-256 key, the last 32 the
 * HMAC-SHA256 key. Blob: `IV (16 random bytes) ‖ AES-256-CBC(plaintext ‖ zero padding, PKCS#7) ‖
 * HMAC-SHA256(macKey, IV ‖ ciphertext)`. The plaintext is padded with zeros to a size bucket (each about
 * 5% above the one before, at least 541 bytes) so that the stored length tells the server little about the
 * file's; the real size travels in the encrypted message. Digest: SHA-256 of the whole blob.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export const ATTACHMENT_KEY_BYTES = 64;
export const IV_BYTES = 16;
export const MAC_BYTES = 32;
const AES_BLOCK = 16;
const MIN_PADDED_SIZE = 541;

/** A fresh 64-byte attachment key. */
export const newAttachmentKey = (): Buffer => randomBytes(ATTACHMENT_KEY_BYTES);
export const newIv = (): Buffer => randomBytes(IV_BYTES);

/** The plaintext length after zero padding: Signal's buckets, `max(541, floor(1.05^ceil(log_1.05(size))))`. */
export function paddedSize(size: number): number {
  if (size <= MIN_PADDED_SIZE) return MIN_PADDED_SIZE;
  return Math.max(size, Math.floor(1.05 ** Math.ceil(Math.log(size) / Math.log(1.05))));
}

/** The encrypted blob's length for a plaintext of `size` bytes: IV, CBC with PKCS#7 over the padded plaintext, MAC. */
export function blobSize(size: number): number {
  return IV_BYTES + (Math.floor(paddedSize(size) / AES_BLOCK) + 1) * AES_BLOCK + MAC_BYTES;
}

function splitKey(key: Uint8Array): { aesKey: Buffer; macKey: Buffer } {
  if (key.length !== ATTACHMENT_KEY_BYTES) throw new Error(`an attachment key is ${ATTACHMENT_KEY_BYTES} bytes`);
  const bytes = Buffer.from(key);
  return { aesKey: bytes.subarray(0, 32), macKey: bytes.subarray(32) };
}

/**
 * Turns a plaintext stream of exactly `size` bytes into the blob. The same key, IV and plaintext always
 * give the same blob: a resumed upload encrypts again and sends only what is missing.
 */
export function encryptingStream(key: Uint8Array, iv: Uint8Array, size: number): Transform {
  return new EncryptingStream(key, iv, size);
}

class EncryptingStream extends Transform {
  private readonly cipher: ReturnType<typeof createCipheriv>;
  private readonly mac: ReturnType<typeof createHmac>;
  private seen = 0;
  /** Set while the padding waits for the reader to take what was pushed. */
  private resumePadding: (() => void) | undefined;

  constructor(
    key: Uint8Array,
    iv: Uint8Array,
    private readonly size: number,
  ) {
    super();
    const { aesKey, macKey } = splitKey(key);
    this.cipher = createCipheriv('aes-256-cbc', aesKey, iv);
    this.mac = createHmac('sha256', macKey).update(iv);
    this.push(Buffer.from(iv));
  }

  private encrypt(piece: Buffer): Buffer {
    const out = this.cipher.update(piece);
    this.mac.update(out);
    return out;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.size) return callback(new Error(`the file grew past the ${this.size} bytes it had when the upload began`));
    callback(null, this.encrypt(chunk));
  }

  override _read(size: number): void {
    const resume = this.resumePadding;
    this.resumePadding = undefined;
    resume?.();
    super._read(size);
  }

  // The padding is up to 5% of the file (41 MiB at 1 GiB): pushed all at once it would sit in memory, so
  // each piece waits, as the file's chunks do, for the reader to ask for more.
  override async _flush(callback: TransformCallback): Promise<void> {
    if (this.seen !== this.size) return callback(new Error(`the file has ${this.seen} bytes, not the ${this.size} it had when the upload began`));
    const padding = paddedSize(this.size) - this.size;
    const zeros = Buffer.alloc(Math.min(padding, 64 * 1024));
    for (let left = padding; left > 0; left -= zeros.length) {
      if (!this.push(this.encrypt(zeros.subarray(0, Math.min(left, zeros.length))))) await new Promise<void>((resume) => (this.resumePadding = resume));
    }
    const last = this.cipher.final();
    this.mac.update(last);
    this.push(last);
    callback(null, this.mac.digest());
  }
}

/** Raised when a blob is not the one the message named: wrong digest, wrong MAC, wrong length or padding. */
export class AttachmentIntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AttachmentIntegrityError';
  }
}

/**
 * Checks a blob as it streams by, passing it on unchanged: its SHA-256 against `digest` and its MAC under
 * `key`. Call `verify()` at the end; nothing of the blob may be decrypted before it returns.
 */
export class BlobVerifier extends Transform {
  private readonly sha = createHash('sha256');
  private readonly mac: ReturnType<typeof createHmac>;
  /** The last MAC_BYTES seen: the blob's MAC, once the stream has ended. */
  private tail = Buffer.alloc(0);
  private length = 0;

  constructor(
    key: Uint8Array,
    private readonly digest: Uint8Array,
    private readonly expectedLength: number,
  ) {
    super();
    this.mac = createHmac('sha256', splitKey(key).macKey);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.length += chunk.length;
    if (this.length > this.expectedLength) return callback(new AttachmentIntegrityError(`the blob is longer than the ${this.expectedLength} bytes named`));
    this.sha.update(chunk);
    // The MAC covers all but the last MAC_BYTES seen: feed it what is no longer last, from the held tail
    // and then the chunk, and copy only the new last bytes (never the chunk, nor a view that keeps it alive).
    const macBytes = Math.max(0, this.tail.length + chunk.length - MAC_BYTES);
    const fromTail = Math.min(this.tail.length, macBytes);
    this.mac.update(this.tail.subarray(0, fromTail));
    this.mac.update(chunk.subarray(0, macBytes - fromTail));
    this.tail = Buffer.concat([this.tail.subarray(fromTail), chunk.subarray(macBytes - fromTail)]);
    callback(null, chunk);
  }

  private verdict: AttachmentIntegrityError | null | undefined;

  /** Throws AttachmentIntegrityError unless the whole blob came and its digest and MAC are right. */
  verify(): void {
    this.verdict ??= this.check();
    if (this.verdict) throw this.verdict;
  }

  private check(): AttachmentIntegrityError | null {
    try {
      this.checkOnce();
      return null;
    } catch (error) {
      return error as AttachmentIntegrityError;
    }
  }

  private checkOnce(): void {
    if (this.length !== this.expectedLength) throw new AttachmentIntegrityError(`the blob has ${this.length} bytes, not the ${this.expectedLength} named: it was cut short`);
    const digest = this.sha.digest();
    if (digest.length !== this.digest.length || !timingSafeEqual(digest, this.digest)) throw new AttachmentIntegrityError('the blob’s SHA-256 is not the digest the message named');
    const mac = this.mac.digest();
    if (this.tail.length !== MAC_BYTES || !timingSafeEqual(mac, this.tail)) throw new AttachmentIntegrityError('the blob’s MAC does not verify under the attachment key');
  }
}

/**
 * Decrypts a blob that {@link BlobVerifier} has verified, streamed: drops the IV and MAC, and releases exactly
 * `size` bytes of plaintext, checking that the padding after them is zeros.
 */
export function decryptingStream(key: Uint8Array, blobLength: number, size: number): Transform {
  const { aesKey } = splitKey(key);
  const ciphertextLength = blobLength - IV_BYTES - MAC_BYTES;
  if (ciphertextLength <= 0 || ciphertextLength % AES_BLOCK !== 0) throw new AttachmentIntegrityError('the blob’s length is not IV, whole AES blocks and MAC');
  let header = Buffer.alloc(0);
  let decipher: ReturnType<typeof createDecipheriv> | undefined;
  let ciphertextSeen = 0;
  let released = 0;
  const release = (stream: Transform, plain: Buffer) => {
    const keep = Math.max(0, Math.min(plain.length, size - released));
    if (keep > 0) stream.push(plain.subarray(0, keep));
    released += keep;
    if (plain.subarray(keep).some((byte) => byte !== 0)) throw new AttachmentIntegrityError('the padding after the attachment is not zeros');
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      try {
        if (!decipher) {
          header = Buffer.concat([header, chunk]);
          if (header.length < IV_BYTES) return callback();
          decipher = createDecipheriv('aes-256-cbc', aesKey, header.subarray(0, IV_BYTES));
          chunk = header.subarray(IV_BYTES);
        }
        const take = Math.max(0, Math.min(chunk.length, ciphertextLength - ciphertextSeen));
        ciphertextSeen += take;
        release(this, decipher.update(chunk.subarray(0, take)));
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback: TransformCallback) {
      try {
        if (!decipher || ciphertextSeen !== ciphertextLength) throw new AttachmentIntegrityError('the blob was cut short');
        release(this, decipher.final());
        if (released !== size) throw new AttachmentIntegrityError(`the attachment decrypted to ${released} bytes, not the ${size} named`);
        callback();
      } catch (error) {
        callback(error instanceof AttachmentIntegrityError ? error : new AttachmentIntegrityError(`the blob does not decrypt: ${(error as Error).message}`));
      }
    },
  });
}
