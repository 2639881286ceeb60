/**
 * Provisioning a linked device, through the local stack with the client SDK: Alice's phone makes the
 * account's chat-list key at registration; her and Bob's devices write chat-list previews sealed under
 * their keys; a laptop Alice links asks for provisioning, her phone answers it end-to-end encrypted and
 * sealed with the link code's secret, and the laptop's chat list then shows the earlier conversations'
 * previews. Provisioning content from another account is refused, a device that does not know the link
 * code's secret gets nothing, and the server never sees a chat-list key or a link secret.
 */
import { randomBytes } from 'node:crypto';
import { encodeContent } from '../../client/content';
import type { ParleyClient } from '../../client/parley-client';
import { MemoryStore } from '../../client/store/memory-store';
import { namespaces as ns } from '../../client/store/key-value-store';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { collectServerData, findSecrets } from '../support/server-scan';
import { linkClient, registerClient, type TestClient } from '../support/sdk-clients';

let parley: ParleyLocal;
let alice: TestClient;
let bob: TestClient;
let laptop: TestClient;
const devices: TestClient[] = [];
/** SENDs each device made, by `userId.deviceId`. */
const sends = new Map<string, { conversationId: string; preview?: string }[]>();
const linkTokens: string[] = [];

beforeAll(async () => {
  parley = await startParleyLocal({
    webSocketPort: 0,
    httpPort: 0,
    intercept: (id, invoke) => async (event: any) => {
      if (id === 'send') {
        const caller = event.requestContext.authorizer;
        const key = `${caller.userId}.${caller.deviceId}`;
        sends.set(key, [...(sends.get(key) ?? []), JSON.parse(event.body)]);
      }
      return invoke(event);
    },
  });
  alice = await registerClient(parley, '+14155552001');
  bob = await registerClient(parley, '+14155552002');
  devices.push(alice, bob);
});
afterAll(async () => {
  for (const device of devices) device.client.close();
  await parley?.stop();
});

async function waitUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const previewIn = (client: ParleyClient, conversationId: string) => async () => (await client.chatList()).find((c) => c.conversationId === conversationId)?.preview;

describe('Chat-list previews and provisioning a linked device', () => {
  it('writes previews the sender and the recipient each read in their own chat list', async () => {
    const first = await alice.client.send(bob.client.userId, 'Lunch at noon? 🍜');
    expect(await waitUntil(previewIn(alice.client, first.conversationId), Boolean)).toEqual({
      msgId: first.msgId,
      from: alice.client.userId,
      sentAt: expect.any(Number),
      text: 'Lunch at noon? 🍜',
    });
    expect(sends.get(`${alice.client.userId}.1`)![0]!.preview).toEqual(expect.any(String));

    const reply = await bob.client.send(alice.client.userId, 'Yes, the usual place');
    // Alice's phone writes her row's preview of Bob's message with its DELIVERED.
    const seen = await waitUntil(previewIn(alice.client, first.conversationId), (p) => p?.msgId === reply.msgId);
    expect(seen).toMatchObject({ from: bob.client.userId, text: 'Yes, the usual place' });
    expect(await previewIn(bob.client, first.conversationId)()).toMatchObject({ msgId: reply.msgId, text: 'Yes, the usual place' });

    const bytes = await bob.client.send(alice.client.userId, randomBytes(40));
    expect(await waitUntil(previewIn(alice.client, first.conversationId), (p) => p?.msgId === bytes.msgId)).toEqual({
      msgId: bytes.msgId,
      from: bob.client.userId,
      sentAt: expect.any(Number),
      data: true,
    });
  });

  it('cuts a long text so its preview stays within 1,024 bytes', async () => {
    const long = await alice.client.send(bob.client.userId, '😀'.repeat(600));
    const preview = await waitUntil(previewIn(bob.client, long.conversationId), (p) => p?.msgId === long.msgId);
    expect(Array.from(preview!.text!).length).toBeLessThanOrEqual(200);
    const sent = sends.get(`${alice.client.userId}.1`)!.at(-1)!;
    expect(Buffer.from(sent.preview!, 'base64').length).toBeLessThanOrEqual(1024);
  });

  it('a linked laptop is provisioned by the phone that showed the link code, and shows the earlier previews', async () => {
    const { linkToken } = await alice.client.createLinkToken();
    linkTokens.push(linkToken);
    laptop = await linkClient(parley, alice, 'Laptop', new MemoryStore(), linkToken);
    devices.push(laptop);

    expect(await laptop.events.waitFor('provisioned')).toEqual({ by: alice.client.address, chatListKeyIds: [1] });
    expect(await laptop.store.get(ns.chatListKeys, '1')).toEqual(await alice.store.get(ns.chatListKeys, '1'));
    const conversationId = alice.client.conversationWith(bob.client.userId);
    const chat = (await laptop.client.chatList()).find((c) => c.conversationId === conversationId);
    expect(chat?.preview).toEqual(await previewIn(alice.client, conversationId)());
    expect(chat?.preview?.text).toBe('😀'.repeat(200));
    // Nothing of it showed as a message; the phone's used secret is forgotten.
    const toSelf = alice.client.conversationWith(alice.client.userId);
    for (const device of [alice, laptop]) expect(device.events.seen.message.filter((m) => m.conversationId === toSelf)).toEqual([]);
    expect(alice.events.seen.receipt.filter((r) => r.conversationId === toSelf)).toEqual([]);
    await waitUntil(() => alice.store.keys(ns.linkSecrets), (ids) => ids.length === 0);

    // The laptop writes previews under the same key: the phone reads them.
    const fromLaptop = await laptop.client.send(bob.client.userId, 'On my laptop now');
    expect(await waitUntil(previewIn(alice.client, conversationId), (p) => p?.msgId === fromLaptop.msgId)).toMatchObject({ text: 'On my laptop now' });
  });

  it('gives nothing to a device that linked without the link code’s secret, nor to one that fakes the proof', async () => {
    const { linkToken } = await alice.client.createLinkToken();
    linkTokens.push(linkToken);
    // What a server that kept the token could do: link with the token alone, then ask with a made-up proof.
    const stranger = await linkClient(parley, alice, 'Stranger', new MemoryStore(), linkToken.split('.')[0]);
    devices.push(stranger);
    const phoneSends = () => (sends.get(`${alice.client.userId}.1`) ?? []).filter((s) => s.conversationId === alice.client.conversationWith(alice.client.userId)).length;
    const before = phoneSends();
    const asked = await stranger.client['outbox'].send(alice.client.userId, encodeContent({ sentAt: Date.now(), provisioningRequest: { proof: randomBytes(32) } }));
    await alice.events.waitFor('undecryptable', () => true, 300).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(asked.msgId).toEqual(expect.any(String));
    expect(phoneSends()).toBe(before);
    expect(stranger.events.seen.provisioned).toEqual([]);
    expect(await stranger.store.keys(ns.chatListKeys)).toEqual([]);
    const conversationId = alice.client.conversationWith(bob.client.userId);
    expect((await stranger.client.chatList()).find((c) => c.conversationId === conversationId)?.preview).toBeUndefined();
    // The secret of that code stays with the phone, unused.
    expect(await alice.store.keys(ns.linkSecrets)).toHaveLength(1);
  });

  it('refuses provisioning content from another account and reports it', async () => {
    const forged = await bob.client['outbox'].send(
      alice.client.userId,
      encodeContent({ sentAt: Date.now(), provisioning: { deviceId: laptop.client.deviceId, sealed: randomBytes(64) } }),
    );
    const asking = await bob.client['outbox'].send(alice.client.userId, encodeContent({ sentAt: Date.now(), provisioningRequest: { proof: randomBytes(32) } }));
    for (const msgId of [forged.msgId, asking.msgId]) {
      for (const device of [alice, laptop]) {
        expect(await device.events.waitFor('undecryptable', (u) => u.msgId === msgId)).toMatchObject({ reason: 'bad-content', error: expect.objectContaining({ message: expect.stringContaining('another account') }) });
      }
    }
    expect(laptop.events.seen.provisioned).toHaveLength(1);
    expect(await laptop.store.keys(ns.chatListKeys)).toEqual(['1']);
  });

  it('leaves no chat-list key and no link secret on the server', async () => {
    await parley.drainStreams();
    const secrets = new Map<string, Uint8Array>();
    for (const device of devices) {
      for (const keyId of await device.store.keys(ns.chatListKeys)) secrets.set(`${device.client.userId}.${device.client.deviceId} chat-list key ${keyId}`, (await device.store.get(ns.chatListKeys, keyId))!);
    }
    for (const token of linkTokens) secrets.set(`link secret of ${token.slice(0, 8)}`, Buffer.from(token.split('.')[1]!, 'base64url'));
    expect(secrets.size).toBe(3 + linkTokens.length);
    expect(Object.fromEntries(findSecrets(await collectServerData(parley), secrets))).toEqual({});
  });
});
