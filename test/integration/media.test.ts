/**
 * The media service on the local stack, through the real S3 client's presigned URLs and the gate that
 * checks them as S3 does: uploads bound to a length and a SHA-256, dedup by the ciphertext's digest, the
 * limits, and each refusal with S3's or the service's status and code.
 */
import { createHash, randomBytes } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { DeviceCredentials } from '../../lambdas/protocol/credentials';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { METRIC } from '../../lambdas/runtime/metrics';
import { call, registerAccount } from '../support/device-client';

let parley: ParleyLocal;
let alice: DeviceCredentials;
let bob: DeviceCredentials;
/** The clock of the handlers and of the S3 gate: a test moves it to expire a URL. */
let clock = Date.now();
beforeAll(async () => {
  parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0, now: () => clock });
  alice = await registerAccount(parley, '+14155550301');
  bob = await registerAccount(parley, '+14155550302');
});
afterAll(async () => {
  await parley?.stop();
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64');
const blobOf = (size: number) => randomBytes(size);
const askUpload = (device: DeviceCredentials, body: unknown) => call(parley, 'POST', '/v1/media', { device, body });

async function put(url: string, body: Uint8Array, headers: Record<string, string>): Promise<{ status: number; code?: string; message?: string }> {
  // fetch sets content-length from the body itself; the checksum header is sent as the service said.
  const response = await fetch(url, { method: 'PUT', body, headers: { 'x-amz-checksum-sha256': headers['x-amz-checksum-sha256']! } });
  const text = await response.text();
  return { status: response.status, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1], message: /<Message>([^<]+)<\/Message>/.exec(text)?.[1] };
}

const stored = async (mediaId: string) =>
  parley.clients.s3
    .send(new HeadObjectCommand({ Bucket: parley.resources.buckets.media, Key: `media/${mediaId}` }))
    .then(() => true)
    .catch(() => false);

describe('media', () => {
  describe('upload and download', () => {
    it('stores a blob through its presigned PUT and hands it to another user’s device through a presigned GET', async () => {
      const blob = blobOf(300_000);
      const asked = await askUpload(alice, { size: blob.length, digest: sha256(blob), kind: 'image' });
      expect(asked.status).toBe(201);
      expect(asked.body.mediaId).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(asked.body.upload).toMatchObject({ method: 'PUT', headers: { 'content-length': '300000', 'x-amz-checksum-sha256': sha256(blob) } });
      expect(asked.body.upload.expiresAt).toBe(clock + 5 * 60_000);
      expect(await put(asked.body.upload.url, blob, asked.body.upload.headers)).toMatchObject({ status: 200 });

      const download = await call(parley, 'GET', `/v1/media/${asked.body.mediaId}`, { device: bob });
      expect(download.status).toBe(200);
      expect(download.body).toMatchObject({ mediaId: asked.body.mediaId, size: blob.length, download: { method: 'GET' } });
      const fetched = await fetch(download.body.download.url);
      expect(fetched.status).toBe(200);
      expect(Buffer.from(await fetched.arrayBuffer()).equals(blob)).toBe(true);
    });

    it('answers the stored blob’s id for the same ciphertext, and asks for no upload', async () => {
      const uploads = (outcome: string) => parley.metrics.total(METRIC.mediaUploads, { outcome });
      const before = { granted: uploads('granted'), deduplicated: uploads('deduplicated') };
      const blob = blobOf(1000);
      const first = await askUpload(alice, { size: blob.length, digest: sha256(blob), kind: 'document' });
      await put(first.body.upload.url, blob, first.body.upload.headers);
      const again = await askUpload(bob, { size: blob.length, digest: sha256(blob), kind: 'document' });
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ mediaId: first.body.mediaId, existing: true, expiresAt: expect.any(Number) });
      // Counted as the dashboard shows them: one upload granted, one answered from the stored blob.
      expect({ granted: uploads('granted'), deduplicated: uploads('deduplicated') }).toEqual({ granted: before.granted + 1, deduplicated: before.deduplicated + 1 });
    });

    it('grants a new upload for a digest whose first upload never finished', async () => {
      const blob = blobOf(1000);
      const first = await askUpload(alice, { size: blob.length, digest: sha256(blob), kind: 'image' });
      const second = await askUpload(alice, { size: blob.length, digest: sha256(blob), kind: 'image' });
      expect(second.status).toBe(201);
      expect(second.body.mediaId).not.toBe(first.body.mediaId);
    });
  });

  describe('S3 refuses, as AWS would', () => {
    it('other bytes of the same length: 400 BadDigest, and nothing is stored', async () => {
      const blob = blobOf(4096);
      const asked = await askUpload(alice, { size: blob.length, digest: sha256(blob), kind: 'image' });
      const other = blobOf(4096);
      expect(await put(asked.body.upload.url, other, asked.body.upload.headers)).toEqual({
        status: 400,
        code: 'BadDigest',
        message: 'The sha256 you specified did not match the calculated checksum.',
      });
      expect(await stored(asked.body.mediaId)).toBe(false);
      expect((await call(parley, 'GET', `/v1/media/${asked.body.mediaId}`, { device: bob })).body.error.code).toBe('NOT_FOUND');
    });

    it('another length than the one signed: 403 SignatureDoesNotMatch', async () => {
      const blob = blobOf(4096);
      const asked = await askUpload(alice, { size: blob.length, digest: sha256(blob), kind: 'image' });
      const longer = Buffer.concat([blob, Buffer.from('x')]);
      expect(await put(asked.body.upload.url, longer, { 'x-amz-checksum-sha256': sha256(longer) })).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
      expect(await stored(asked.body.mediaId)).toBe(false);
    });

    it('the URL re-used for other bytes with their own checksum: 403 SignatureDoesNotMatch', async () => {
      const blob = blobOf(4096);
      const asked = await askUpload(alice, { size: blob.length, digest: sha256(blob), kind: 'image' });
      const other = blobOf(4096);
      expect(await put(asked.body.upload.url, other, { 'x-amz-checksum-sha256': sha256(other) })).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    });

    it('a URL whose key or signature was changed: 403 SignatureDoesNotMatch', async () => {
      const blob = blobOf(4096);
      const asked = await askUpload(alice, { size: blob.length, digest: sha256(blob), kind: 'image' });
      const url = new URL(asked.body.upload.url);
      const otherKey = new URL(url);
      otherKey.pathname = url.pathname.replace(asked.body.mediaId, 'AAAAAAAAAAAAAAAAAAAAAA');
      expect(await put(otherKey.toString(), blob, asked.body.upload.headers)).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
      const otherSignature = new URL(url);
      const signature = url.searchParams.get('X-Amz-Signature')!;
      otherSignature.searchParams.set('X-Amz-Signature', `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`);
      expect(await put(otherSignature.toString(), blob, asked.body.upload.headers)).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
      const longerLife = new URL(url);
      longerLife.searchParams.set('X-Amz-Expires', '604800');
      expect(await put(longerLife.toString(), blob, asked.body.upload.headers)).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    });

    it('an expired upload or download URL: 403 AccessDenied, Request has expired', async () => {
      const blob = blobOf(4096);
      const asked = await askUpload(alice, { size: blob.length, digest: sha256(blob), kind: 'audio' });
      clock += 5 * 60_000 + 1000;
      expect(await put(asked.body.upload.url, blob, asked.body.upload.headers)).toEqual({ status: 403, code: 'AccessDenied', message: 'Request has expired' });
      expect(await stored(asked.body.mediaId)).toBe(false);

      const fresh = await askUpload(alice, { size: blob.length, digest: sha256(blob), kind: 'audio' });
      expect(await put(fresh.body.upload.url, blob, fresh.body.upload.headers)).toMatchObject({ status: 200 });
      const download = await call(parley, 'GET', `/v1/media/${fresh.body.mediaId}`, { device: bob });
      clock += 5 * 60_000 + 1000;
      const late = await fetch(download.body.download.url);
      expect(late.status).toBe(403);
      expect(await late.text()).toContain('<Code>AccessDenied</Code><Message>Request has expired</Message>');
    });
  });

  describe('the service refuses', () => {
    it('a declared size over its kind’s limit, naming the limit, before any upload', async () => {
      const asked = await askUpload(alice, { size: 16 * 1024 * 1024 + 1, digest: sha256(blobOf(1)), kind: 'image' });
      expect(asked.status).toBe(413);
      expect(asked.body.error).toMatchObject({ code: 'MEDIA_TOO_LARGE', kind: 'image', maxBytes: 16 * 1024 * 1024 });
      const video = await askUpload(alice, { size: 2 * 1024 ** 3 + 1, digest: sha256(blobOf(1)), kind: 'video' });
      expect(video.body.error).toMatchObject({ code: 'MEDIA_TOO_LARGE', kind: 'video', maxBytes: 2 * 1024 ** 3 });
    });

    it.each([
      ['a zero size', { size: 0, digest: 'x', kind: 'image' }, 'size'],
      ['a fractional size', { size: 1.5, digest: 'x', kind: 'image' }, 'size'],
      ['a digest that is not 32 bytes of base64', { size: 10, digest: 'abc', kind: 'image' }, 'digest'],
      ['an unknown kind', { size: 10, digest: Buffer.alloc(32).toString('base64'), kind: 'sticker' }, 'kind'],
      ['an unknown field', { size: 10, digest: Buffer.alloc(32).toString('base64'), kind: 'image', key: 'secret' }, 'key'],
    ])('%s with BAD_REQUEST naming the field', async (_, body, field) => {
      const asked = await askUpload(alice, body);
      expect(asked.status).toBe(400);
      expect(asked.body.error.code).toBe('BAD_REQUEST');
      expect(asked.body.error.message).toContain(field);
    });

    it('an id that names no blob with NOT_FOUND, and one that is no id with BAD_REQUEST', async () => {
      const unknown = await call(parley, 'GET', `/v1/media/${randomBytes(16).toString('base64url')}`, { device: bob });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe('NOT_FOUND');
      const malformed = await call(parley, 'GET', '/v1/media/..%2F..%2Fetc', { device: bob });
      expect(malformed.status).toBe(400);
      expect(malformed.body.error.code).toBe('BAD_REQUEST');
    });

    it('a device without credentials', async () => {
      expect((await call(parley, 'POST', '/v1/media', { body: { size: 1, digest: sha256(blobOf(1)), kind: 'image' } })).status).toBe(401);
      expect((await call(parley, 'GET', `/v1/media/${randomBytes(16).toString('base64url')}`)).status).toBe(401);
    });
  });
  describe('multipart upload of a blob over 16 MiB', () => {
    const MiB = 1024 * 1024;
    /** 17 MiB + 1: two 8 MiB parts and a 1 MiB + 1 byte last one. */
    const blob = blobOf(17 * MiB + 1);
    const parts = [blob.subarray(0, 8 * MiB), blob.subarray(8 * MiB, 16 * MiB), blob.subarray(16 * MiB)];
    const partsRequest = (numbers: number[]) => ({ parts: numbers.map((n) => ({ partNumber: n, digest: sha256(parts[n - 1]!) })) });
    const askParts = (device: DeviceCredentials, mediaId: string, body: unknown) => call(parley, 'POST', `/v1/media/${mediaId}/parts`, { device, body });
    const complete = (device: DeviceCredentials, mediaId: string) => call(parley, 'POST', `/v1/media/${mediaId}/complete`, { device });
    /** A new upload of the blob's size; its declared digest is fresh, so it is never deduplicated. */
    const start = async () => {
      const asked = await askUpload(alice, { size: blob.length, digest: sha256(blobOf(8)), kind: 'video' });
      expect(asked.status).toBe(201);
      return asked.body.mediaId as string;
    };

    it('answers multipart, takes parts through URLs bound to their length and SHA-256, resumes from what S3 lists, and completes', async () => {
      const asked = await askUpload(alice, { size: blob.length, digest: sha256(blob), kind: 'video' });
      expect(asked.body).toEqual({ mediaId: expect.any(String), multipart: { partSize: 8 * MiB, partCount: 3 }, expiresAt: expect.any(Number) });
      const { mediaId } = asked.body;

      const first = await askParts(alice, mediaId, partsRequest([1, 2]));
      expect(first.status).toBe(200);
      expect(first.body.uploaded).toEqual([]);
      expect(first.body.urls.map((u: { partNumber: number }) => u.partNumber)).toEqual([1, 2]);
      expect(first.body.urls[0].headers).toEqual({ 'content-length': String(8 * MiB), 'x-amz-checksum-sha256': sha256(parts[0]!) });
      expect(await put(first.body.urls[0].url, parts[0]!, first.body.urls[0].headers)).toMatchObject({ status: 200 });

      // Interrupted after part 1: asking again lists it, and signs only what is missing.
      const resumed = await askParts(alice, mediaId, partsRequest([1, 2, 3]));
      expect(resumed.body.uploaded).toEqual([{ partNumber: 1, size: 8 * MiB, digest: sha256(parts[0]!) }]);
      expect(resumed.body.urls.map((u: { partNumber: number }) => u.partNumber)).toEqual([2, 3]);
      expect(resumed.body.urls[1].headers['content-length']).toBe(String(MiB + 1));
      for (const [i, url] of resumed.body.urls.entries()) expect(await put(url.url, parts[i + 1]!, url.headers)).toMatchObject({ status: 200 });

      const done = await complete(alice, mediaId);
      expect(done.status).toBe(200);
      expect(done.body).toEqual({ mediaId, size: blob.length, expiresAt: expect.any(Number) });
      expect((await complete(alice, mediaId)).body).toEqual(done.body);
      const download = await call(parley, 'GET', `/v1/media/${mediaId}`, { device: bob });
      expect(Buffer.from(await (await fetch(download.body.download.url)).arrayBuffer()).equals(blob)).toBe(true);
    });

    it('refuses a part of other bytes with BadDigest, and stores nothing of it', async () => {
      const mediaId = await start();
      const { body } = await askParts(alice, mediaId, partsRequest([1]));
      const other = blobOf(8 * MiB);
      expect(await put(body.urls[0].url, other, body.urls[0].headers)).toMatchObject({ status: 400, code: 'BadDigest' });
      expect((await askParts(alice, mediaId, partsRequest([1]))).body.uploaded).toEqual([]);
    });

    it('refuses to complete with parts missing, naming them, and stores no blob', async () => {
      const mediaId = await start();
      const { body } = await askParts(alice, mediaId, partsRequest([2]));
      await put(body.urls[0].url, parts[1]!, body.urls[0].headers);
      const early = await complete(alice, mediaId);
      expect(early.status).toBe(409);
      expect(early.body.error).toMatchObject({ code: 'MEDIA_INCOMPLETE', missingParts: [1, 3] });
      expect(await stored(mediaId)).toBe(false);
    });

    it('refuses another device’s parts and completion with FORBIDDEN, an unknown upload with NOT_FOUND, a part past the last with BAD_REQUEST', async () => {
      const mediaId = await start();
      expect((await askParts(bob, mediaId, partsRequest([1]))).body.error.code).toBe('FORBIDDEN');
      const stolen = await complete(bob, mediaId);
      expect(stolen.status).toBe(403);
      expect(stolen.body.error.code).toBe('FORBIDDEN');
      expect((await complete(alice, randomBytes(16).toString('base64url'))).body.error.code).toBe('NOT_FOUND');
      const beyond = await askParts(alice, mediaId, { parts: [{ partNumber: 4, digest: sha256(parts[0]!) }] });
      expect(beyond.status).toBe(400);
      expect(beyond.body.error.message).toContain('3 parts');
    });

    it('S3 (the local gate) refuses a part for an upload that does not exist, and answers ListParts and Abort', async () => {
      const mediaId = await start();
      const { body } = await askParts(alice, mediaId, partsRequest([1]));
      const url = new URL(body.urls[0].url);
      url.searchParams.set('uploadId', '0'.repeat(32));
      // The uploadId is signed: changing it breaks the signature before S3 looks for the upload.
      expect(await put(url.toString(), parts[0]!, body.urls[0].headers)).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
      const { ListPartsCommand, AbortMultipartUploadCommand } = await import('@aws-sdk/client-s3');
      const Bucket = parley.resources.buckets.media;
      await expect(parley.clients.s3.send(new ListPartsCommand({ Bucket, Key: `media/${mediaId}`, UploadId: '0'.repeat(32) }))).rejects.toMatchObject({ name: 'NoSuchUpload' });
      await put(body.urls[0].url, parts[0]!, body.urls[0].headers);
      const uploadId = new URL(body.urls[0].url).searchParams.get('uploadId')!;
      expect((await parley.clients.s3.send(new ListPartsCommand({ Bucket, Key: `media/${mediaId}`, UploadId: uploadId }))).Parts).toEqual([
        expect.objectContaining({ PartNumber: 1, Size: 8 * MiB, ChecksumSHA256: sha256(parts[0]!) }),
      ]);
      await parley.clients.s3.send(new AbortMultipartUploadCommand({ Bucket, Key: `media/${mediaId}`, UploadId: uploadId }));
      await expect(parley.clients.s3.send(new ListPartsCommand({ Bucket, Key: `media/${mediaId}`, UploadId: uploadId }))).rejects.toMatchObject({ name: 'NoSuchUpload' });
    });
  });
});
