/**
 * An attachment through the local stack on the SDK's real path: Alice's phone uploads a file of random
 * bytes (encrypt to learn the digest, POST /v1/media, the presigned PUT through the local S3 gate, which
 * checks signature, length and SHA-256), then Bob's phone downloads it (GET /v1/media/{id}, the presigned
 * GET, verify digest and MAC, decrypt to a file), and the file is compared with the original. A fresh file
 * and key each round, so no upload is answered by dedup. What the handlers asked of AWS is counted per
 * upload and per download, for the media cost model.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { HttpClient } from '../client/http-client';
import type { Attachment } from '../client/media/attachment';
import { blobSize } from '../client/media/attachment-cipher';
import { MediaTransfers } from '../client/media/media-transfers';
import { MemoryStore } from '../client/store/memory-store';
import type { ParleyLocal } from '../local/runtime';
import { costPerMediaMessage, type MediaAssumptions, type MediaCostModel } from './cost-model';
import type { MediaCryptoRun } from './media-crypto';
import { registerUser } from './population';
import type { RequestCounter, Usage } from './request-counter';

export interface MediaTransferRun {
  /** Size of the file, MiB (the blob is padded to Signal's size bucket, a little over). */
  readonly megabytes: number;
  readonly blobBytes: number;
  readonly rounds: number;
  /** File MiB per second of each upload, from `upload()` called to resolved: encrypting twice (digest, then the PUT) included. */
  readonly uploadMBps: Throughput;
  /** File MiB per second of each download, from `download()` called to the decrypted file renamed into place. */
  readonly downloadMBps: Throughput;
  /** Every downloaded file equals its original, byte for byte. */
  readonly intact: boolean;
  /** What the handlers asked of AWS over all the uploads, and over all the downloads (`rounds` of each). */
  readonly uploads: Usage;
  readonly downloads: Usage;
}

export interface Throughput {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

const MiB = 1024 * 1024;
const mbps = (megabytes: number, ms: number) => Math.round((megabytes / (ms / 1000)) * 10) / 10;

function throughput(values: number[]): Throughput {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor((sorted.length - 1) / 2)]!, min: sorted[0]!, max: sorted.at(-1)! };
}

export async function measureMediaTransfer(parley: ParleyLocal, counter: RequestCounter, options: { megabytes: number; rounds: number }): Promise<MediaTransferRun> {
  const [alicePhone] = await registerUser(parley, 1);
  const [bobPhone] = await registerUser(parley, 1);
  const alice = new MediaTransfers(new HttpClient(parley.httpUrl, alicePhone!), new MemoryStore());
  const bob = new MediaTransfers(new HttpClient(parley.httpUrl, bobPhone!), new MemoryStore());
  const folder = await mkdtemp(path.join(tmpdir(), 'parley-media-transfer-'));
  try {
    // Uploads first, then downloads, so that each phase's AWS requests are counted apart.
    const sent: { file: string; attachment: Attachment }[] = [];
    const uploadMBps: number[] = [];
    counter.reset();
    for (let round = 0; round < options.rounds; round++) {
      const file = path.join(folder, `photo-${round}.jpg`);
      await writeFile(file, randomBytes(Math.round(options.megabytes * MiB)));
      const started = performance.now();
      sent.push({ file, attachment: await alice.upload(file) });
      uploadMBps.push(mbps(options.megabytes, performance.now() - started));
    }
    const uploads = counter.take();

    const downloadMBps: number[] = [];
    let intact = true;
    counter.reset();
    for (const { file, attachment } of sent) {
      const started = performance.now();
      const received = await bob.download(attachment, `${file}.received`);
      downloadMBps.push(mbps(options.megabytes, performance.now() - started));
      intact &&= (await readFile(file)).equals(await readFile(received));
    }
    const downloads = counter.take();
    return {
      megabytes: options.megabytes,
      blobBytes: blobSize(sent[0]!.attachment.size),
      rounds: options.rounds,
      uploadMBps: throughput(uploadMBps),
      downloadMBps: throughput(downloadMBps),
      intact,
      uploads,
      downloads,
    };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/**
 * The media message the cost model prices: a WhatsApp-like photo of 200 KB (most media messages are
 * photos, resized on the phone to a few hundred KB), kept the bucket's 30 days, fetched by the three other
 * devices of the 1:1 scenario (the recipient's two, the sender's second).
 */
export const MEDIA_MESSAGE: MediaAssumptions = {
  blobBytes: blobSize(200 * 1024),
  describedAs: '200 KB photo (blob padded and encrypted)',
  retentionDays: 30,
  downloadsPerMessage: 3,
};

/** The bench's media section: the SDK's crypto alone, transfers through the stack, and the cost model. */
export interface MediaResults {
  readonly crypto: MediaCryptoRun | null;
  readonly transfer: MediaTransferRun | null;
  readonly cost: MediaCostModel | null;
  /** Load when the media section ended: its figures may come from a run of the section alone. */
  readonly loadAverageAtEnd: number[];
}

export function mediaResults(crypto: MediaCryptoRun | null, transfer: MediaTransferRun | null, lambdaMemoryMb: number): MediaResults {
  return {
    crypto,
    transfer,
    cost: transfer
      ? costPerMediaMessage({ uploads: transfer.uploads, downloads: transfer.downloads, rounds: transfer.rounds, assumptions: MEDIA_MESSAGE, lambdaMemoryMb })
      : null,
    loadAverageAtEnd: loadavg().map((load) => Math.round(load * 100) / 100),
  };
}
