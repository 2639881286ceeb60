/**
 * Two users with several devices chat through the local stack with the client SDK and real Signal
 * protocol encryption: Alice (phone, tablet) and Bob (phone, laptop, desktop). Every device decrypts
 * every message meant for it, replies turn the ratchet, receipts come back, a replayed or tampered
 * ciphertext is reported and never shown, a redelivered message is shown once, and linked and removed
 * devices are handled as the server's MISMATCHED_DEVICES answers say.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { FileStore } from '../../client/store/file-store';
import { receiptCovers } from '../../client/delivery-states';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { MemoryStore } from '../../client/store/memory-store';
import { getJson, namespaces as ns, type KeyValueStore } from '../../client/store/key-value-store';
import { forgetCodeRequests } from '../support/device-client';
import { readMessageStream } from '../support/message-stream';
import { linkClient, registerClient, reopenClient, type TestClient } from '../support/sdk-clients';

let parley: ParleyLocal;
let folder: string;
let alice: { phone: TestClient; tablet: TestClient };
let bob: { phone: TestClient; laptop: TestClient; desktop: TestClient };

/** Fault injection at the server: what a hostile or broken relay could do to a SEND, and lost acknowledgements. */
const faults = { replayNextSend: false, tamperNextSend: false, dropDeliveredOf: undefined as string | undefined };
/** Bodies of key fetches, by the fetching device. */
const keyFetches: { by: string; users: unknown }[] = [];
/** Error codes the send route answered, by the sending device. */
const sendRefusals: { by: string; code: string }[] = [];

beforeAll(async () => {
  folder = await mkdtemp(path.join(tmpdir(), 'parley-chat-'));
  parley = await startParleyLocal({
    webSocketPort: 0,
    httpPort: 0,
    intercept: (id, invoke) => async (event: any) => {
      if (id === 'send' && faults.tamperNextSend) {
        faults.tamperNextSend = false;
        const frame = JSON.parse(event.body);
        for (const envelope of frame.envelopes) {
          const bytes = Buffer.from(envelope.ciphertext, 'base64');
          bytes[bytes.length - 1]! ^= 0x01;
          envelope.ciphertext = bytes.toString('base64');
        }
        return invoke({ ...event, body: JSON.stringify(frame) });
      }
      if (id === 'send' && faults.replayNextSend) {
        faults.replayNextSend = false;
        const answer = await invoke(event);
        const frame = JSON.parse(event.body);
        await invoke({ ...event, body: JSON.stringify({ ...frame, msgId: randomUUID(), requestId: 'replay' }) });
        return answer;
      }
      const caller = event.requestContext?.authorizer;
      if (id === 'delivered' && faults.dropDeliveredOf === `${caller?.userId}.${caller?.deviceId}`) {
        // The acknowledgement is lost on the way: the server answers, but the message stays queued.
        return invoke({ ...event, body: JSON.stringify({ ...JSON.parse(event.body), msgIds: [randomUUID()] }) });
      }
      if (id === 'send') {
        const answer = (await invoke(event)) as { body?: string };
        const { type, code } = JSON.parse(answer.body ?? '{}');
        const by = event.requestContext.authorizer;
        if (type === 'ERROR') sendRefusals.push({ by: `${by.userId}.${by.deviceId}`, code });
        return answer;
      }
      if (id === 'fetchKeysBatch') {
        const by = event.requestContext.authorizer.lambda;
        keyFetches.push({ by: `${by.userId}.${by.deviceId}`, users: JSON.parse(event.body).users });
      }
      return invoke(event);
    },
  });
  const alicePhone = await registerClient(parley, '+14155550901', new FileStore(path.join(folder, 'alice-phone'), { fsync: false }));
  alice = { phone: alicePhone, tablet: await linkClient(parley, alicePhone, 'Tablet') };
  const bobPhone = await registerClient(parley, '+14155550902', new FileStore(path.join(folder, 'bob-phone'), { fsync: false }));
  bob = { phone: bobPhone, laptop: await linkClient(parley, bobPhone, 'Laptop'), desktop: await linkClient(parley, bobPhone, 'Desktop') };
});
afterAll(async () => {
  for (const device of [...Object.values(alice ?? {}), ...Object.values(bob ?? {})]) device.client.close();
  await parley?.stop();
  await rm(folder, { recursive: true, force: true });
});

const aliceId = () => alice.phone.client.userId;
const bobId = () => bob.phone.client.userId;
const bobDevices = () => [bob.phone, bob.laptop, bob.desktop];
const everyone = () => [alice.phone, alice.tablet, ...bobDevices()];
const others = (sender: TestClient) => everyone().filter((device) => device !== sender);

async function envelopesOf(msgId: string) {
  await parley.drainStreams();
  const record = (await readMessageStream(parley)).find((r) => r.data.kind === 'message' && r.data.msgId === msgId);
  return record!.data.envelopes as { userId: string; deviceId: number; type: string; ciphertext: string }[];
}

/** Sends and waits until every other device of both users has shown the message. */
async function chat(sender: TestClient, to: string, text: string) {
  const sent = await sender.client.send(to, text);
  for (const device of others(sender)) await device.events.waitFor('message', (m) => m.msgId === sent.msgId);
  return sent;
}

describe('Two users with several devices', () => {
  it('every device decrypts every message meant for it; the sender’s other devices see it as sent by them', async () => {
    const sent = await chat(alice.phone, bobId(), 'Hello Bob, this is Alice on her phone');
    for (const device of bobDevices()) {
      expect(await device.events.waitFor('message', (m) => m.msgId === sent.msgId)).toMatchObject({
        text: 'Hello Bob, this is Alice on her phone',
        from: { userId: aliceId(), deviceId: 1 },
        outgoing: false,
        conversationId: alice.phone.client.conversationWith(bobId()),
        seq: 1,
      });
    }
    expect(await alice.tablet.events.waitFor('message', (m) => m.msgId === sent.msgId)).toMatchObject({ text: 'Hello Bob, this is Alice on her phone', outgoing: true });
    expect(alice.phone.events.seen.message.find((m) => m.msgId === sent.msgId)).toBeUndefined();

    // Everyone answers once, from each device: every session now has a reply.
    for (const [device, to, text] of [
      [bob.laptop, aliceId(), 'Hi Alice, Bob on his laptop'],
      [bob.phone, aliceId(), 'And on my phone'],
      [bob.desktop, aliceId(), 'And my desktop'],
      [alice.tablet, bobId(), 'Alice on the tablet now'],
    ] as const) {
      const reply = await chat(device, to, text);
      for (const other of others(device)) expect((await other.events.waitFor('message', (m) => m.msgId === reply.msgId)).text).toBe(text);
    }
    for (const device of everyone()) expect(device.events.seen.undecryptable).toEqual([]);
  });

  it('encrypts once per device, and replies advance the ratchet: PreKeySignalMessages first, then SignalMessages, fresh each time', async () => {
    const first = (await envelopesOf(alice.phone.events.seen.receipt.find((r) => r.status === 'sent')!.msgIds[0]!)) ?? [];
    expect(first.map((e) => `${e.userId === aliceId() ? 'alice' : 'bob'}.${e.deviceId}:${e.type}`).sort()).toEqual(['alice.2:prekey', 'bob.1:prekey', 'bob.2:prekey', 'bob.3:prekey']);
    expect(new Set(first.map((e) => e.ciphertext)).size).toBe(4);

    const again = await chat(alice.phone, bobId(), 'Same words twice');
    const twice = await chat(alice.phone, bobId(), 'Same words twice');
    const [a, b] = [await envelopesOf(again.msgId), await envelopesOf(twice.msgId)];
    expect(a.map((e) => e.type)).toEqual(['message', 'message', 'message', 'message']);
    for (const envelope of a) expect(b.find((e) => e.userId === envelope.userId && e.deviceId === envelope.deviceId)!.ciphertext).not.toBe(envelope.ciphertext);
    expect(Buffer.from(a[0]!.ciphertext, 'base64').length).toBeLessThan(Buffer.from(first[0]!.ciphertext, 'base64').length / 3);
    expect(bob.phone.events.seen.message.filter((m) => m.from.userId === aliceId() && m.from.deviceId === 1).map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('brings ticks back: sent, delivered (once, by the first of Bob’s devices to store it), read', async () => {
    const sent = await chat(alice.phone, bobId(), 'Did you get this?');
    expect(await alice.phone.events.waitFor('receipt', (r) => r.status === 'sent' && r.msgIds.includes(sent.msgId))).toMatchObject({ by: alice.phone.client.address });
    for (const device of [alice.phone, alice.tablet]) {
      const delivered = await device.events.waitFor('receipt', (r) => r.status === 'delivered' && receiptCovers(r, sent));
      expect(delivered).toMatchObject({ conversationId: sent.conversationId, by: { userId: bobId() }, upToServerTs: sent.serverTs });
    }
    // Every device of Bob stored it and acknowledged it (in its DELIVERED window): still one tick each.
    for (const device of bobDevices()) await device.events.waitFor('message', (m) => m.msgId === sent.msgId);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const device of [alice.phone, alice.tablet]) {
      expect(device.events.seen.receipt.filter((r) => r.status === 'delivered' && receiptCovers(r, sent))).toHaveLength(1);
    }
    await bob.laptop.client.markRead(sent.conversationId, sent.msgId);
    for (const device of [alice.phone, alice.tablet]) {
      expect(await device.events.waitFor('receipt', (r) => r.status === 'read' && r.msgIds.includes(sent.msgId))).toMatchObject({ by: { userId: bobId(), deviceId: 2 } });
    }
  });

  it('rejects a replayed ciphertext on every device and reports it, never showing it', async () => {
    faults.replayNextSend = true;
    const sent = await chat(alice.phone, bobId(), 'This one will be replayed');
    for (const device of [alice.tablet, ...bobDevices()]) {
      const replay = await device.events.waitFor('undecryptable', (u) => u.reason === 'replayed');
      expect(replay).toMatchObject({ from: { userId: aliceId(), deviceId: 1 }, conversationId: sent.conversationId });
      expect(replay.msgId).not.toBe(sent.msgId);
      expect(device.events.seen.message.filter((m) => m.text === 'This one will be replayed')).toHaveLength(1);
    }
  });

  it('reports a tampered ciphertext as undecryptable, never shows it, and carries on', async () => {
    faults.tamperNextSend = true;
    const tampered = await alice.phone.client.send(bobId(), 'Tampered on the way');
    expect((await envelopesOf(tampered.msgId)).map((e) => e.type)).toEqual(['message', 'message', 'message', 'message']);
    for (const device of [alice.tablet, ...bobDevices()]) {
      expect(await device.events.waitFor('undecryptable', (u) => u.msgId === tampered.msgId)).toMatchObject({ reason: 'invalid' });
    }
    const after = await chat(alice.phone, bobId(), 'Still talking after that');
    for (const device of [alice.tablet, ...bobDevices()]) {
      expect(device.events.texts()).not.toContain('Tampered on the way');
      expect((await device.events.waitFor('message', (m) => m.msgId === after.msgId)).text).toBe('Still talking after that');
    }
  });

  it('shows a message handed out again once, from a device that comes back with its store', async () => {
    faults.dropDeliveredOf = `${bobId()}.1`;
    const sent = await chat(alice.tablet, bobId(), 'Tell me once');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const queueOfBobPhone = async () =>
      (
        await parley.clients.db.send(
          new QueryCommand({ TableName: parley.resources.tables.deviceQueues, KeyConditionExpression: 'device = :d', ExpressionAttributeValues: { ':d': `${bobId()}#1` } }),
        )
      ).Items ?? [];
    expect((await queueOfBobPhone()).map((item) => item.frame.msgId)).toContain(sent.msgId);
    bob.phone.client.close();
    faults.dropDeliveredOf = undefined;

    const offline = [await alice.phone.client.send(bobId(), 'While your phone was off'), await alice.tablet.client.send(bobId(), 'Me too')];
    bob.phone = await reopenClient(parley, bob.phone.store);
    for (const message of offline) expect((await bob.phone.events.waitFor('message', (m) => m.msgId === message.msgId)).from.userId).toBe(aliceId());
    expect(bob.phone.events.texts()).toEqual(['While your phone was off', 'Me too']);
    await waitUntil(async () => (await queueOfBobPhone()).length === 0);
  });

  it('a newly linked device starts fresh sessions with its peers’ devices, and peers find it through MISMATCHED_DEVICES', async () => {
    const laptop = await linkClient(parley, alice.phone, 'Laptop');
    const hello = await laptop.client.send(bobId(), 'Hello from my new laptop');
    // Sessions start with every device; only Alice's phone has answered one already, with the laptop's provisioning.
    const types = (await envelopesOf(hello.msgId)).map((e) => `${e.userId === aliceId() ? 'alice' : 'bob'}.${e.deviceId}:${e.type}`);
    expect(types.sort()).toEqual(['alice.1:message', 'alice.2:prekey', 'bob.1:prekey', 'bob.2:prekey', 'bob.3:prekey']);
    for (const device of [alice.phone, alice.tablet, ...bobDevices()]) {
      expect(await device.events.waitFor('message', (m) => m.msgId === hello.msgId)).toMatchObject({ text: 'Hello from my new laptop', from: { userId: aliceId(), deviceId: 3 } });
    }
    expect(laptop.events.seen.message).toEqual([]);

    // A watch that has said nothing yet: Bob's desktop learns of it only from the server.
    const watch = await linkClient(parley, alice.phone, 'Watch');
    const fetchesBefore = keyFetches.length;
    const toWatch = await bob.desktop.client.send(aliceId(), 'Welcome, new devices');
    for (const device of [laptop, watch]) expect((await device.events.waitFor('message', (m) => m.msgId === toWatch.msgId)).text).toBe('Welcome, new devices');
    expect(keyFetches.slice(fetchesBefore)).toEqual([{ by: `${bobId()}.3`, users: [{ userId: aliceId(), deviceIds: [4] }] }]);
    laptop.client.close();
    watch.client.close();
  });

  it('a removed device is closed for good and left out of later sends', async () => {
    await bob.phone.client.removeDevice(3);
    expect(await bob.desktop.events.waitFor('connection', (s) => s.state === 'closed')).toMatchObject({ reason: expect.stringContaining('DEVICE_REMOVED') });
    const sent = await alice.phone.client.send(bobId(), 'Only two of you now');
    for (const device of [bob.phone, bob.laptop]) expect((await device.events.waitFor('message', (m) => m.msgId === sent.msgId)).text).toBe('Only two of you now');
    expect((await envelopesOf(sent.msgId)).filter((e) => e.userId === bobId()).map((e) => e.deviceId).sort()).toEqual([1, 2]);
  });
});

describe('Safety numbers', () => {
  it('two devices compute the same number for each other, numeric and scannable, one per device of the contact', async () => {
    const fromAlice = await alice.phone.client.safetyNumbers(bob.phone.client.userId);
    expect(fromAlice.map((n) => n.device.deviceId).sort()).toEqual(expect.arrayContaining([1, 2]));
    const withBobPhone = fromAlice.find((n) => n.device.deviceId === 1)!;
    expect(withBobPhone.digits).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(withBobPhone.verified).toBe(false);

    const fromBob = (await bob.phone.client.safetyNumbers(alice.phone.client.userId)).find((n) => n.device.deviceId === 1)!;
    expect(fromBob.digits).toBe(withBobPhone.digits);
    expect(fromAlice.find((n) => n.device.deviceId === 2)!.digits).not.toBe(withBobPhone.digits);
    // Scanning the other phone's QR code: it matches this device's number with that phone, not with another device.
    expect(await alice.phone.client.matchesScannedSafetyNumber(bob.phone.client.address, fromBob.scannable)).toBe(true);
    expect(await alice.phone.client.matchesScannedSafetyNumber(bob.laptop.client.address, fromBob.scannable)).toBe(false);
    expect(await alice.phone.client.matchesScannedSafetyNumber(bob.phone.client.address, new Uint8Array([1, 2, 3]))).toBe(false);
  });

  it('marking a contact verified marks each of its devices as it is now', async () => {
    const bobId = bob.phone.client.userId;
    const devices = (await alice.tablet.client.safetyNumbers(bobId)).length;
    expect(await alice.tablet.client.markVerified(bobId)).toBe(devices);
    expect((await alice.tablet.client.safetyNumbers(bobId)).every((n) => n.verified)).toBe(true);
    expect((await alice.phone.client.safetyNumbers(bobId)).some((n) => n.verified)).toBe(false);
  });
});

describe('A number registered again', () => {
  /** Clients of this test, closed after it whatever happens: a client left open reconnects forever. */
  const opened: TestClient[] = [];
  afterAll(() => opened.forEach((device) => device.client.close()));
  const open = (device: TestClient) => (opened.push(device), device);

  it('the sender is told its session is with the earlier phone (STALE_DEVICES), starts one with the new phone and sends again', async () => {
    const phoneNumber = '+14155550903';
    const erin = open(await registerClient(parley, '+14155550904'));
    let dave = open(await registerClient(parley, phoneNumber));
    const daveId = dave.client.userId;
    const registrationIdIn = (store: KeyValueStore) => getJson<number>(store, ns.account, 'registrationId');
    const before = await erin.client.send(daveId, 'Hi Dave');
    await dave.events.waitFor('message', (m) => m.msgId === before.msgId);
    expect(await erin.client.markVerified(daveId)).toBe(1);
    const [verified] = await erin.client.safetyNumbers(daveId);
    expect(verified).toMatchObject({ device: { userId: daveId, deviceId: 1 }, verified: true });

    // Dave's new phone: a fresh store, so a new identity key and registration id for device 1.
    const oldRegistrationId = await registrationIdIn(dave.store);
    do {
      dave.client.close();
      await forgetCodeRequests(parley, phoneNumber);
      dave = open(await registerClient(parley, phoneNumber, new MemoryStore()));
      // Registration ids are 14 bits and may repeat (1 in 16,380): the server tells phones apart only when they differ.
    } while ((await registrationIdIn(dave.store)) === oldRegistrationId);
    expect(dave.client.address).toEqual({ userId: daveId, deviceId: 1 });

    const after = await erin.client.send(daveId, 'Hi Dave, new phone?');
    expect(await dave.events.waitFor('message', (m) => m.msgId === after.msgId)).toMatchObject({ text: 'Hi Dave, new phone?', from: erin.client.address });
    expect(sendRefusals.filter((refusal) => refusal.by === `${erin.client.userId}.1`)).toEqual([{ by: `${erin.client.userId}.1`, code: 'STALE_DEVICES' }]);
    // Erin had verified Dave's phone: the change is reported as such, and the new number is not verified.
    expect(await erin.events.waitFor('identityChanged')).toEqual({ device: { userId: daveId, deviceId: 1 }, wasVerified: true });
    const [changed] = await erin.client.safetyNumbers(daveId);
    expect(changed).toMatchObject({ device: { userId: daveId, deviceId: 1 }, verified: false });
    expect(changed!.digits).not.toBe(verified!.digits);
    expect(dave.events.seen.undecryptable).toEqual([]);
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
