import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AttachmentIntegrityError, BlobVerifier, blobSize, decryptingStream, encryptingStream, paddedSize } from '../../client/media/attachment-cipher';

async function run(source: Buffer, ...steps: NodeJS.ReadWriteStream[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline([Readable.from(chunks(source)), ...steps, new Writable({ write: (chunk: Buffer, _e, done) => (out.push(chunk), done()) })]);
  return Buffer.concat(out);
}
/** Uneven chunks, as files and sockets give them. */
function* chunks(bytes: Buffer) {
  for (let at = 0, n = 1; at < bytes.length; at += n, n = (n * 7 + 3) % 70_001) yield bytes.subarray(at, at + n);
}

describe('attachment cipher', () => {
  describe('paddedSize', () => {
    it('pads to Signal’s buckets, at least 541 bytes and never more than 5% over', () => {
      expect(paddedSize(1)).toBe(541);
      expect(paddedSize(541)).toBe(541);
      for (const size of [542, 10_000, 5_000_000, 1_000_000_007]) {
        expect(paddedSize(size)).toBeGreaterThanOrEqual(size);
        expect(paddedSize(size)).toBeLessThanOrEqual(Math.ceil(size * 1.05));
      }
      // Files of nearby sizes share a padded size: the blob's length says less about the file's.
      expect(paddedSize(1_000_000)).toBe(paddedSize(1_010_000));
    });
  });

  it('writes Signal’s layout: IV, AES-256-CBC of the zero-padded plaintext, HMAC-SHA256 over IV and ciphertext', async () => {
    const key = randomBytes(64);
    const iv = randomBytes(16);
    const plaintext = randomBytes(123_457);
    const blob = await run(plaintext, encryptingStream(key, iv, plaintext.length));
    const padded = Buffer.concat([plaintext, Buffer.alloc(paddedSize(plaintext.length) - plaintext.length)]);
    const cipher = createCipheriv('aes-256-cbc', key.subarray(0, 32), iv);
    const ciphertext = Buffer.concat([cipher.update(padded), cipher.final()]);
    const mac = createHmac('sha256', key.subarray(32)).update(iv).update(ciphertext).digest();
    expect(blob.equals(Buffer.concat([iv, ciphertext, mac]))).toBe(true);
    expect(blob.length).toBe(blobSize(plaintext.length));
  });

  it('decrypts what it encrypted, after the verifier accepts it, exactly the plaintext’s bytes', async () => {
    const key = randomBytes(64);
    const plaintext = randomBytes(300_001);
    const blob = await run(plaintext, encryptingStream(key, randomBytes(16), plaintext.length));
    const verifier = new BlobVerifier(key, createHash('sha256').update(blob).digest(), blob.length);
    expect((await run(blob, verifier)).equals(blob)).toBe(true);
    verifier.verify();
    expect((await run(blob, decryptingStream(key, blob.length, plaintext.length))).equals(plaintext)).toBe(true);
  });

  it.each([
    ['a flipped byte', (blob: Buffer) => ((blob[100]! ^= 1), blob), /SHA-256/],
    ['a missing tail', (blob: Buffer) => blob.subarray(0, blob.length - 1), /cut short/],
  ])('refuses a blob with %s', async (_, spoil, message) => {
    const key = randomBytes(64);
    const plaintext = randomBytes(5000);
    const blob = await run(plaintext, encryptingStream(key, randomBytes(16), plaintext.length));
    const digest = createHash('sha256').update(blob).digest();
    const verifier = new BlobVerifier(key, digest, blob.length);
    await run(spoil(Buffer.from(blob)), verifier);
    expect(() => verifier.verify()).toThrow(AttachmentIntegrityError);
    expect(() => verifier.verify()).toThrow(message);
  });

  it('refuses a file that changed size while it was being encrypted', async () => {
    await expect(run(randomBytes(100), encryptingStream(randomBytes(64), randomBytes(16), 99))).rejects.toThrow(/grew/);
    await expect(run(randomBytes(100), encryptingStream(randomBytes(64), randomBytes(16), 101))).rejects.toThrow(/not the 101/);
  });

  it('encrypts the padding only as its reader asks for it, so a large file’s padding is never all in memory', async () => {
    // Just past a bucket: padded by almost 5%, about 400 KB of zeros, several 64 KiB pieces.
    const size = paddedSize(8_000_000) + 1;
    const stream = encryptingStream(randomBytes(64), randomBytes(16), size);
    let received = 0;
    let resumeReader: (() => void) | undefined;
    let stopped = false;
    // A reader that takes the IV and the file's ciphertext, then stops once until told to go on.
    const reader = new Writable({
      highWaterMark: 1,
      write: (chunk: Buffer, _e, done) => {
        received += chunk.length;
        if (stopped || received < 16 + size) return done();
        stopped = true;
        resumeReader = done;
      },
    });
    const finished = pipeline(Readable.from([Buffer.alloc(size)]), stream, reader);
    while (!resumeReader) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stream.readableLength).toBeLessThanOrEqual(64 * 1024);
    resumeReader();
    await finished;
    expect(received).toBe(blobSize(size));
  });
});
