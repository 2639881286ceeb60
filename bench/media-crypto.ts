/**
 * The SDK's attachment crypto on this machine: a file is encrypted to a blob (Signal's layout, streamed),
 * the blob verified (SHA-256 and MAC) and decrypted to a file, as an upload and a download do without the
 * network. Reports MB/s of each and the process's peak RSS above its start, which must not grow with the file.
 *
 *   npx tsx bench/media-crypto.ts [megabytes, default 1024]
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobVerifier, blobSize, decryptingStream, encryptingStream } from '../client/media/attachment-cipher';

export interface MediaCryptoRun {
  readonly megabytes: number;
  readonly encryptMBps: number;
  readonly verifyAndDecryptMBps: number;
  /** Peak resident set size above the process's at the start, MB. */
  readonly peakRssGrowthMB: number;
  /** Peak of Buffers' and ArrayBuffers' memory (outside the JS heap) above the start, MB: what the code holds, as opposed to what the allocator keeps. */
  readonly peakArrayBuffersGrowthMB: number;
}

/** A stream of `bytes` pseudo-random bytes, made from one 1 MiB block, so the source costs no memory. */
function source(bytes: number): Readable {
  const block = randomBytes(1024 * 1024);
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) {
        this.push(null);
        return;
      }
      const chunk = block.subarray(0, Math.min(left, block.length));
      left -= chunk.length;
      this.push(chunk);
    },
  });
}

export async function measureMediaCrypto(megabytes: number): Promise<MediaCryptoRun> {
  const size = megabytes * 1024 * 1024;
  const folder = await mkdtemp(path.join(tmpdir(), 'parley-media-bench-'));
  const baseline = process.memoryUsage();
  let peak = baseline.rss;
  let peakArrayBuffers = baseline.arrayBuffers;
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    peak = Math.max(peak, now.rss);
    peakArrayBuffers = Math.max(peakArrayBuffers, now.arrayBuffers);
  }, 20);
  try {
    const key = randomBytes(64);
    const blobFile = path.join(folder, 'blob');
    const digest = createHash('sha256');
    let started = performance.now();
    await pipeline(source(size), encryptingStream(key, randomBytes(16), size), async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        digest.update(chunk);
        yield chunk;
      }
    }, createWriteStream(blobFile));
    const encryptMs = performance.now() - started;
    const blobBytes = (await stat(blobFile)).size;
    if (blobBytes !== blobSize(size)) throw new Error('the blob has an unexpected length');

    started = performance.now();
    const verifier = new BlobVerifier(key, digest.digest(), blobBytes);
    await pipeline(createReadStream(blobFile), verifier, async function* (chunks: AsyncIterable<Buffer>) {
      for await (const _ of chunks);
    });
    verifier.verify();
    await pipeline(createReadStream(blobFile), decryptingStream(key, blobBytes, size), createWriteStream(path.join(folder, 'plain')));
    const decryptMs = performance.now() - started;
    return {
      megabytes,
      encryptMBps: Math.round(megabytes / (encryptMs / 1000)),
      verifyAndDecryptMBps: Math.round(megabytes / (decryptMs / 1000)),
      peakRssGrowthMB: Math.round((peak - baseline.rss) / 1024 / 1024),
      peakArrayBuffersGrowthMB: Math.round((peakArrayBuffers - baseline.arrayBuffers) / 1024 / 1024),
    };
  } finally {
    clearInterval(sampler);
    await rm(folder, { recursive: true, force: true });
  }
}

if (require.main === module) {
  void measureMediaCrypto(Number(process.argv[2] ?? 1024)).then((run) => console.log(JSON.stringify(run)));
}
