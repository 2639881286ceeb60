/**
 * Attachments end to end through the local stack with the SDK: Alice's phone sends a 5 MB photo, Bob's two
 * devices and Alice's tablet download it byte for byte; the bucket holds only ciphertext; a tampered,
 * truncated or cancelled download leaves no file; a forward uploads nothing; a group gets one upload.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Attachment } from '../../client/media/attachment';
import { AttachmentIntegrityError, blobSize } from '../../client/media/attachment-cipher';
import type { TransferProgress } from '../../client/media/media-transfers';
import { MULTIPART_PART_BYTES } from '../../lambdas/protocol/media-api';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { linkClient, registerClient, type TestClient } from '../support/sdk-clients';
import { collectServerData, findSecrets } from '../support/server-scan';

let parley: ParleyLocal;
let folder: string;
let alice: { phone: TestClient; tablet: TestClient };
let bob: { phone: TestClient; laptop: TestClient };
/** A 5 MB "photo": text a scan would find, between random bytes. */
let photo: Buffer;
let photoPath: string;
const fileName = `holiday-${randomUUID()}.jpg`;
const caption = `Look at this view ${randomUUID()}`;

beforeAll(async () => {
  folder = await mkdtemp(path.join(tmpdir(), 'parley-media-'));
  parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0 });
  const alicePhone = await registerClient(parley, '+14155551401');
  alice = { phone: alicePhone, tablet: await linkClient(parley, alicePhone, 'Tablet') };
  const bobPhone = await registerClient(parley, '+14155551402');
  bob = { phone: bobPhone, laptop: await linkClient(parley, bobPhone, 'Laptop') };
  photo = Buffer.concat(Array.from({ length: 40 }, (_, i) => Buffer.concat([Buffer.from(`Photo stripe ${i} ${randomUUID()} `.repeat(40)), randomBytes(128 * 1024 - 2000)])));
  photoPath = path.join(folder, fileName);
  await writeFile(photoPath, photo);
});
afterAll(async () => {
  for (const device of [...Object.values(alice ?? {}), ...Object.values(bob ?? {})]) device.client.close();
  await parley?.stop();
  await rm(folder, { recursive: true, force: true });
});

const mediaObjects = async () =>
  (await parley.clients.s3.send(new ListObjectsV2Command({ Bucket: parley.resources.buckets.media }))).Contents?.map((object) => object.Key!) ?? [];
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const downloadTo = (device: TestClient, attachment: Attachment, name: string) => device.client.downloadAttachment(attachment, path.join(folder, name));
/** What a folder holds besides the photo: a failed download must leave nothing, not even its scratch files. */
const leftovers = async (prefix: string) => (await readdir(folder)).filter((name) => name.startsWith(prefix));

describe('attachments', () => {
  let received: Attachment;
  let sentMsgId: string;

  it('go from Alice’s phone to Bob’s two devices and Alice’s tablet byte for byte, with upload progress', async () => {
    const progress: TransferProgress[] = [];
    const sent = await alice.phone.client.sendFile(bob.phone.client.userId, photoPath, { caption, width: 4000, height: 3000, onProgress: (p) => progress.push(p) });
    sentMsgId = sent.msgId;
    expect(sent.attachment).toMatchObject({ kind: 'image', mimeType: 'image/jpeg', fileName, size: photo.length, width: 4000, height: 3000 });
    expect(progress.some((p) => p.phase === 'encrypting')).toBe(true);
    expect(progress.filter((p) => p.phase === 'uploading').at(-1)).toEqual({ phase: 'uploading', bytes: expect.any(Number), totalBytes: expect.any(Number) });
    const lastUpload = progress.filter((p) => p.phase === 'uploading').at(-1)!;
    expect(lastUpload.bytes).toBe(lastUpload.totalBytes);

    for (const [device, name] of [[bob.phone, 'bob-phone'], [bob.laptop, 'bob-laptop'], [alice.tablet, 'alice-tablet']] as const) {
      const message = await device.events.waitFor('message', (m) => m.msgId === sent.msgId);
      expect(message.text).toBe(caption);
      expect(message.attachment).toMatchObject({ mediaId: sent.attachment.mediaId, fileName, size: photo.length });
      const downloads: TransferProgress[] = [];
      const file = await device.client.downloadAttachment(message.attachment!, path.join(folder, `${name}.jpg`), { onProgress: (p) => downloads.push(p) });
      expect(sha256(await readFile(file))).toBe(sha256(photo));
      expect(downloads.some((p) => p.phase === 'downloading' && p.bytes === p.totalBytes)).toBe(true);
    }
    received = (await bob.phone.events.waitFor('message', (m) => m.msgId === sent.msgId)).attachment!;
    expect(await mediaObjects()).toEqual([`media/${sent.attachment.mediaId}`]);
  });

  it('leave only ciphertext on the server: no stripe of the photo, no key, no name, no caption anywhere', async () => {
    await parley.drainStreams();
    const data = await collectServerData(parley);
    expect(data.some((entry) => entry.source === `s3:media/media/${received.mediaId}`)).toBe(true);
    const secrets = new Map<string, Uint8Array>([
      ['attachment key', received.key],
      ['AES key', received.key.subarray(0, 32)],
      ['MAC key', received.key.subarray(32)],
      ['file name', Buffer.from(fileName)],
      ['caption', Buffer.from(caption)],
    ]);
    for (let offset = 0; offset < photo.length; offset += 256 * 1024) secrets.set(`photo at ${offset}`, photo.subarray(offset, offset + 48));
    expect(Object.fromEntries(findSecrets(data, secrets))).toEqual({});
    // The scan does find what the bucket holds: the blob's own bytes.
    const blob = data.find((entry) => entry.source.startsWith('s3:media/'))!.bytes;
    expect(findSecrets(data, new Map([['blob', blob.subarray(1000, 1048)]])).get('blob')).toEqual([`s3:media/media/${received.mediaId}`]);
  });

  it('forwarded, reuse the stored blob: nothing is uploaded, and the recipient downloads the same bytes', async () => {
    const before = await mediaObjects();
    const forwarded = await bob.phone.client.forwardAttachment(alice.phone.client.userId, received, 'from Alice, back to her');
    const message = await alice.phone.events.waitFor('message', (m) => m.msgId === forwarded.msgId);
    expect(message.attachment!.mediaId).toBe(received.mediaId);
    expect(await mediaObjects()).toEqual(before);
    const file = await downloadTo(alice.phone, message.attachment!, 'forwarded.jpg');
    expect(sha256(await readFile(file))).toBe(sha256(photo));
  });

  describe('a download that must not become a file', () => {
    const bucket = () => parley.resources.buckets.media;
    let original: Buffer;
    beforeAll(async () => {
      const object = await parley.clients.s3.send(new GetObjectCommand({ Bucket: bucket(), Key: `media/${received.mediaId}` }));
      original = Buffer.from(await object.Body!.transformToByteArray());
    });
    afterEach(async () => {
      await parley.clients.s3.send(new PutObjectCommand({ Bucket: bucket(), Key: `media/${received.mediaId}`, Body: original }));
    });

    it('a blob with one byte flipped is refused before any decryption, and leaves nothing behind', async () => {
      const tampered = Buffer.from(original);
      tampered[tampered.length >> 1]! ^= 0x01;
      await parley.clients.s3.send(new PutObjectCommand({ Bucket: bucket(), Key: `media/${received.mediaId}`, Body: tampered }));
      await expect(downloadTo(bob.laptop, received, 'tampered.jpg')).rejects.toThrow(AttachmentIntegrityError);
      expect(await leftovers('tampered')).toEqual([]);
    });

    it('a truncated blob is refused, and leaves nothing behind', async () => {
      await parley.clients.s3.send(new PutObjectCommand({ Bucket: bucket(), Key: `media/${received.mediaId}`, Body: original.subarray(0, original.length - 1000) }));
      await expect(downloadTo(bob.laptop, received, 'truncated.jpg')).rejects.toThrow(/cut short/);
      expect(await leftovers('truncated')).toEqual([]);
    });

    it('a blob re-encrypted under another key with a matching digest still fails its MAC', async () => {
      const forged = { ...received, key: randomBytes(64) };
      await expect(downloadTo(bob.laptop, forged, 'forged.jpg')).rejects.toThrow(/MAC/);
      expect(await leftovers('forged')).toEqual([]);
    });

    it('a cancelled download rejects with AbortError, and leaves nothing behind', async () => {
      const controller = new AbortController();
      const download = bob.laptop.client.downloadAttachment(received, path.join(folder, 'cancelled.jpg'), {
        signal: controller.signal,
        onProgress: (p) => p.phase === 'downloading' && p.bytes > 1024 * 1024 && controller.abort(),
      });
      await expect(download).rejects.toMatchObject({ name: 'AbortError' });
      expect(await leftovers('cancelled')).toEqual([]);
    });
  });

  it('go to a group with one upload, the key inside the Sender Key message', async () => {
    const group = await alice.phone.client.createGroup('Photos', [bob.phone.client.userId]);
    await bob.phone.events.waitFor('groupUpdate', (u) => u.groupId === group.groupId);
    const before = (await mediaObjects()).length;
    const small = path.join(folder, 'voice-note.ogg');
    await writeFile(small, randomBytes(40_000));
    const sent = await alice.phone.client.sendFile({ groupId: group.groupId }, small);
    expect(sent.attachment.kind).toBe('audio');
    expect((await mediaObjects()).length).toBe(before + 1);
    for (const device of [bob.phone, bob.laptop]) {
      const message = await device.events.waitFor('message', (m) => m.msgId === sent.msgId);
      expect(message.groupId).toBe(group.groupId);
      const file = await device.client.downloadAttachment(message.attachment!, path.join(folder, `group-${device.client.deviceId}.ogg`));
      expect(sha256(await readFile(file))).toBe(sha256(await readFile(small)));
    }
  });

  it('a cancelled upload rejects with AbortError and stores nothing', async () => {
    const before = await mediaObjects();
    const controller = new AbortController();
    const upload = alice.phone.client.sendFile(bob.phone.client.userId, photoPath, {
      signal: controller.signal,
      onProgress: (p) => p.phase === 'uploading' && p.bytes > 1024 * 1024 && controller.abort(),
    });
    await expect(upload).rejects.toMatchObject({ name: 'AbortError' });
    expect(await mediaObjects()).toEqual(before);
    expect(sentMsgId).toBeDefined();
  });
  describe('a 200 MB video, in parts', () => {
    const VIDEO_BYTES = 200_000_000;
    let video: string;
    beforeAll(async () => {
      video = path.join(folder, 'trip.mp4');
      // Written a megabyte at a time, so that the test's own copy of the file does not weigh on its memory.
      for (let written = 0; written < VIDEO_BYTES; written += 1_000_000) await appendFile(video, randomBytes(1_000_000));
    });
    const sentParts = (progress: TransferProgress[]) => progress.flatMap((p) => (p.partNumber ? [p.partNumber] : []));
    const fileHash = async (file: string) => {
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(file)) hash.update(chunk);
      return hash.digest('hex');
    };

    it('interrupted after two parts, resumes sending only the missing parts, and downloads byte for byte in memory that does not grow with the file', async () => {
      const controller = new AbortController();
      const interrupted: TransferProgress[] = [];
      const first = alice.phone.client.sendFile(bob.phone.client.userId, video, {
        signal: controller.signal,
        onProgress: (p) => {
          interrupted.push(p);
          if (p.partNumber === 2) controller.abort();
        },
      });
      await expect(first).rejects.toMatchObject({ name: 'AbortError' });
      expect(sentParts(interrupted)).toEqual([1, 2]);
      const before = await mediaObjects();

      const rssBefore = process.memoryUsage().rss;
      let rssPeak = rssBefore;
      const sample = () => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss));
      const resumed: TransferProgress[] = [];
      const sent = await alice.phone.client.sendFile(bob.phone.client.userId, video, { onProgress: (p) => (resumed.push(p), sample()) });
      // The blob goes up in parts of MULTIPART_PART_BYTES (the last shorter): only 3 to the last go up again.
      const partCount = Math.ceil(blobSize(VIDEO_BYTES) / MULTIPART_PART_BYTES);
      expect(sentParts(resumed)).toEqual(Array.from({ length: partCount - 2 }, (_, i) => i + 3));
      expect(resumed.filter((p) => p.phase === 'uploading').at(-1)).toMatchObject({ bytes: blobSize(VIDEO_BYTES), totalBytes: blobSize(VIDEO_BYTES) });
      expect(sent.attachment).toMatchObject({ kind: 'video', mimeType: 'video/mp4', size: VIDEO_BYTES });
      expect(await mediaObjects()).toEqual([...before, `media/${sent.attachment.mediaId}`].sort());

      const message = await bob.phone.events.waitFor('message', (m) => m.msgId === sent.msgId);
      const timer = setInterval(sample, 20);
      const file = await downloadTo(bob.phone, message.attachment!, 'trip.mp4').finally(() => clearInterval(timer));
      expect(await fileHash(file)).toBe(await fileHash(video));
      // Streaming end to end: a transfer that held the file would grow by 200 MB or more; this one grows by
      // a few part buffers (measured about 40 MB), whatever the file's size.
      expect(rssPeak - rssBefore).toBeLessThan(VIDEO_BYTES / 2);
    }, 120_000);
  });
});
