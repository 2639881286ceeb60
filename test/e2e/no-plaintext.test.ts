/**
 * No plaintext and no private key on the server: after an end-to-end chat with known plaintexts (text and
 * bytes, both ways, from every device, with receipts, a newly linked device and an offline device woken by
 * push), every item of every table, every Kinesis record, every S3 object and every recorded SNS delivery
 * of the local stack (the media bucket's attachment blobs among them), after a group chat too, is scanned for each plaintext, each Sender Key, each private key of every device's store,
 * the account's chat-list keys and the secrets of the link codes that provisioned the linked devices, raw, in
 * hex and in base64 at any alignment. The scan is shown to work on what the server does hold.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as signal from '@signalapp/libsignal-client';
import type { DeviceCredentials } from '../../lambdas/protocol/credentials';
import { getJson, namespaces as ns, type KeyValueStore } from '../../client/store/key-value-store';
import { StoredSenderKeys } from '../../client/store/protocol-stores';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { readMessageStream } from '../support/message-stream';
import { linkClient, registerClient, type TestClient } from '../support/sdk-clients';
import { collectServerData, findSecrets, type StoredData } from '../support/server-scan';

let parley: ParleyLocal;
const plaintexts = new Map<string, Uint8Array>();
const privateKeys = new Map<string, Uint8Array>();
let devices: TestClient[] = [];
const tabletName = `Alice's tablet ${randomUUID()}`;

const bytes = (value: Uint8Array) => Uint8Array.from(value) as Uint8Array<ArrayBuffer>;

/** Every private key a device's store holds now, and its device secret, by a name that says what it is. */
async function rememberSecrets(device: TestClient): Promise<void> {
  const store: KeyValueStore = device.store;
  const name = `${device.client.userId}.${device.client.deviceId}`;
  const pair = signal.IdentityKeyPair.deserialize(bytes((await store.get(ns.account, 'identityKeyPair'))!));
  privateKeys.set(`${name} identity key`, pair.privateKey.serialize());
  const credentials = JSON.parse(Buffer.from((await store.get(ns.account, 'credentials'))!).toString()) as DeviceCredentials;
  privateKeys.set(`${name} device secret`, Buffer.from(credentials.secret));
  for (const id of await store.keys(ns.prekeys)) {
    privateKeys.set(`${name} prekey ${id}`, signal.PreKeyRecord.deserialize(bytes((await store.get(ns.prekeys, id))!)).privateKey().serialize());
  }
  for (const id of await store.keys(ns.signedPrekeys)) {
    privateKeys.set(`${name} signed prekey ${id}`, signal.SignedPreKeyRecord.deserialize(bytes((await store.get(ns.signedPrekeys, id))!)).privateKey().serialize());
  }
  if (device.linkToken) privateKeys.set(`${name} link secret`, Buffer.from(device.linkToken.split('.')[1]!, 'base64url'));
  for (const keyId of await store.keys(ns.chatListKeys)) privateKeys.set(`${name} chat-list key ${keyId}`, (await store.get(ns.chatListKeys, keyId))!);
  for (const namespace of [ns.kyberPrekeys, ns.lastResortKyberPrekeys]) {
    for (const id of await store.keys(namespace)) {
      privateKeys.set(`${name} ${namespace} ${id}`, signal.KyberPreKeyRecord.deserialize(bytes((await store.get(namespace, id))!)).secretKey().serialize());
    }
  }
}

function said(text: string): string {
  plaintexts.set(text, Buffer.from(text));
  return text;
}


let data: StoredData[];

beforeAll(async () => {
  parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0 });
  const alicePhone = await registerClient(parley, '+14155551001');
  const aliceTablet = await linkClient(parley, alicePhone, tabletName);
  const bobPhone = await registerClient(parley, '+14155551002');
  const bobLaptop = await linkClient(parley, bobPhone, 'Laptop');
  const bobDesktop = await linkClient(parley, bobPhone, 'Desktop');
  devices = [alicePhone, aliceTablet, bobPhone, bobLaptop, bobDesktop];
  for (const device of devices) await rememberSecrets(device);

  const alice = alicePhone.client.userId;
  const bob = bobPhone.client.userId;
  // Every device says something distinctive; the receivers' ticks go back.
  for (const [device, to] of [
    [alicePhone, bob],
    [bobPhone, alice],
    [aliceTablet, bob],
    [bobLaptop, alice],
    [bobDesktop, alice],
  ] as const) {
    const sent = await device.client.send(to, said(`Secret plan ${randomUUID()}: meet at the old mill at dawn`));
    await devices.find((d) => d.client.userId === to)!.events.waitFor('message', (m) => m.msgId === sent.msgId);
  }
  const picture = new Uint8Array(Buffer.from(said(`binary attachment stand-in ${randomUUID()}`)));
  const sentBytes = await alicePhone.client.send(bob, picture);
  await bobPhone.events.waitFor('message', (m) => m.msgId === sentBytes.msgId);
  await bobPhone.client.markRead(sentBytes.conversationId, sentBytes.msgId);
  // A real attachment: its blob is in the media bucket, its key and name only in the encrypted message.
  const photoFolder = await mkdtemp(path.join(tmpdir(), 'parley-scan-'));
  const photoName = said(`photo-${randomUUID()}.png`);
  await writeFile(path.join(photoFolder, photoName), said(`Attached secret photo ${randomUUID()} `.repeat(500)));
  const sentPhoto = await alicePhone.client.sendFile(bob, path.join(photoFolder, photoName));
  privateKeys.set('attachment key', sentPhoto.attachment.key);
  const photoMessage = await bobPhone.events.waitFor('message', (m) => m.msgId === sentPhoto.msgId);
  await bobPhone.client.downloadAttachment(photoMessage.attachment!, path.join(photoFolder, 'received.png'));
  await rm(photoFolder, { recursive: true, force: true });

  // A device linked now, and one offline with messages waiting for it, woken by a silent push.
  const aliceLaptop = await linkClient(parley, alicePhone, 'Laptop');
  devices.push(aliceLaptop);
  await rememberSecrets(aliceLaptop);
  await bobDesktop.client.registerPushToken('fcm', `fcm-token-${randomUUID()}`);
  bobDesktop.client.close();
  await bobDesktop.events.waitFor('connection', (s) => s.state === 'closed');
  await aliceLaptop.client.send(bob, said(`Waiting for you offline ${randomUUID()}`));
  await parley.emulators.sns.waitFor((d) => d.kind === 'push', 5000);
  await bobPhone.client.send(alice, said(`Last word ${randomUUID()} before the scan`));
  await aliceLaptop.events.waitFor('message', (m) => m.text?.startsWith('Last word') ?? false);

  // A group: its messages and each sender's Sender Key (its chain key). The group's name is the app's to encrypt.
  const group = await alicePhone.client.createGroup('Book club', [bob]);
  await bobPhone.events.waitFor('groupUpdate', (u) => u.groupId === group.groupId);
  for (const device of [alicePhone, bobPhone]) {
    const sent = await device.client.sendToGroup(group.groupId, said(`Group secret ${randomUUID()}: the password is swordfish`));
    await devices.find((d) => d !== device && d.client.userId !== device.client.userId && d.client.deviceId === 1)!.events.waitFor('message', (m) => m.msgId === sent.msgId);
    const { distributionId } = (await getJson<{ distributionId: string }>(device.store, ns.senderKeyDistributions, group.groupId))!;
    const address = signal.ProtocolAddress.new(device.client.userId, device.client.deviceId);
    const skdm = await signal.SenderKeyDistributionMessage.create(address, distributionId, new StoredSenderKeys(device.store));
    privateKeys.set(`${device.client.userId}.${device.client.deviceId} sender key chain`, skdm.chainKey());
  }

  // Keys used since the first look are gone from the stores now; those still there are added.
  for (const device of devices) await rememberSecrets(device);
  await parley.drainStreams();
  data = await collectServerData(parley);
});
afterAll(async () => {
  for (const device of devices) device.client.close();
  await parley?.stop();
});

describe('What the server holds after an end-to-end chat', () => {
  it('was read from every place: tables, the stream, the bucket, SMS and pushes', () => {
    const sources = new Set(data.map((entry) => entry.source));
    for (const table of Object.keys(parley.resources.tables).filter((t) => ['accounts', 'devices', 'deviceQueues', 'deviceKeys', 'oneTimePrekeys', 'conversations'].includes(t))) {
      expect(sources).toContain(`dynamodb:${table}`);
    }
    expect(sources).toContain('kinesis:messages');
    expect(sources).toContain('sns:sms');
    expect(sources).toContain('sns:push');
    // The one attachment sent is in the media bucket, scanned like the rest.
    expect([...sources].filter((source) => source.startsWith('s3:'))).toEqual([expect.stringMatching(/^s3:media\/media\/[A-Za-z0-9_-]{22}$/)]);
  });

  it('holds what it should, which shows the scan finds text, bytes and base64 at any alignment', async () => {
    const identityKey = signal.IdentityKeyPair.deserialize(bytes((await devices[0]!.store.get(ns.account, 'identityKeyPair'))!)).publicKey.serialize();
    const record = (await readMessageStream(parley)).find((r) => r.data.kind === 'message')!;
    const ciphertextMiddle = Buffer.from(record.data.envelopes[0].ciphertext, 'base64').subarray(5, 45);
    const found = findSecrets(data, new Map<string, Uint8Array>([['device name', Buffer.from(tabletName)], ['identity public key', identityKey], ['ciphertext', ciphertextMiddle]]));
    expect(found.get('device name')).toEqual(['dynamodb:devices']);
    expect(found.get('identity public key')).toContain('dynamodb:deviceKeys');
    expect(found.get('ciphertext')).toContain('kinesis:messages');
  });

  it('holds no plaintext, in any encoding', () => {
    expect(plaintexts.size).toBe(12);
    expect(Object.fromEntries(findSecrets(data, plaintexts))).toEqual({});
  });

  it('holds no private key and no device secret, in any encoding', () => {
    // Six devices, each with its one-time prekeys of both kinds (20 each: test/support/sdk-clients.ts), and more.
    expect(privateKeys.size).toBeGreaterThan(6 * 2 * 20);
    // Every device holds the account's chat-list key, the linked ones by provisioning.
    expect([...privateKeys.keys()].filter((name) => name.includes('chat-list key'))).toHaveLength(6);
    expect([...privateKeys.keys()].filter((name) => name.endsWith('link secret'))).toHaveLength(4);
    expect(Object.fromEntries(findSecrets(data, privateKeys))).toEqual({});
  });
});
