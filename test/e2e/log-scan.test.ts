/**
 * What the handlers log: everything they write during an end-to-end chat through the local stack (Alice's
 * phone and a linked tablet, Bob's phone, receipts, a refused frame), at DEBUG, is captured and checked:
 * every line is one JSON object; lines of a message's path carry its msgId and conversationId, those of a
 * frame its route, connection and device; a refused frame makes one INFO line with its code; and no phone
 * number (those looked up in the directory included), verification code, device secret, link token, ciphertext, preview or plaintext appears in any
 * line, raw, in hex or in base64 at any alignment.
 *
 * Outside the scan: the local runtime's own `log` option (its SMS emulation prints codes for the
 * developer; nothing on AWS does), which this test leaves unset.
 */
import { randomUUID } from 'node:crypto';
import type { DeviceCredentials } from '../../lambdas/protocol/credentials';
import { logger } from '../../lambdas/runtime/observability';
import { namespaces as ns } from '../../client/store/key-value-store';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { readMessageStream } from '../support/message-stream';
import { linkClient, registerClient, type TestClient } from '../support/sdk-clients';
import { findSecrets } from '../support/server-scan';

const phones = ['+14155551301', '+14155551302'];
const unregisteredPhone = '+14155551399';
const malformedPhone = '+1415555139x';
const secrets = new Map<string, Uint8Array>(phones.map((phone) => [`phone ${phone}`, Buffer.from(phone)]));
const codes: string[] = [];
const written: string[] = [];
let parley: ParleyLocal;
let devices: TestClient[] = [];
let forgedMsgId: string | undefined;
let forgeNextSend = false;

function said(text: string): string {
  secrets.set(`plaintext ${text}`, Buffer.from(text));
  return text;
}

async function rememberDevice(device: TestClient): Promise<void> {
  const credentials = JSON.parse(Buffer.from((await device.store.get(ns.account, 'credentials'))!).toString()) as DeviceCredentials;
  secrets.set(`${device.client.userId}.${device.client.deviceId} device secret`, Buffer.from(credentials.secret));
  if (device.linkToken) {
    secrets.set(`link token of ${device.client.deviceId}`, Buffer.from(device.linkToken));
    secrets.set(`link secret of ${device.client.deviceId}`, Buffer.from(device.linkToken.split('.')[1]!, 'base64url'));
  }
}

beforeAll(async () => {
  logger.setLogLevel('DEBUG');
  jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    written.push(Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write);
  jest.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    written.push(Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stderr.write);

  parley = await startParleyLocal({
    webSocketPort: 0,
    httpPort: 0,
    intercept: (id, invoke) => async (event: any) => {
      if (id === 'send' && forgeNextSend) {
        // A refused frame, ciphertexts and all: a SEND to a conversation that is not the sender's.
        forgeNextSend = false;
        const frame = JSON.parse(event.body);
        forgedMsgId = frame.msgId;
        await invoke({ ...event, body: JSON.stringify({ ...frame, conversationId: `forged-${randomUUID()}` }) });
        await invoke({ ...event, body: 'not json' });
      }
      return invoke(event);
    },
  });
  const alicePhone = await registerClient(parley, phones[0]!);
  const aliceTablet = await linkClient(parley, alicePhone, 'Tablet');
  const bobPhone = await registerClient(parley, phones[1]!);
  devices = [alicePhone, aliceTablet, bobPhone];
  for (const sms of parley.emulators.sns.outbox.filter((d) => d.kind === 'sms')) codes.push(/(\d{6})/.exec(sms.message)![1]!);
  for (const device of devices) await rememberDevice(device);

  const alice = alicePhone.client.userId;
  const bob = bobPhone.client.userId;
  for (const [device, to] of [
    [alicePhone, bob],
    [bobPhone, alice],
    [aliceTablet, bob],
  ] as const) {
    const sent = await device.client.send(to, said(`Log-scan secret ${randomUUID()} at the old mill`));
    await devices.find((d) => d.client.userId === to)!.events.waitFor('message', (m) => m.msgId === sent.msgId);
  }
  forgeNextSend = true;
  const last = await alicePhone.client.send(bob, said(`Last log-scan words ${randomUUID()}`));
  await bobPhone.events.waitFor('message', (m) => m.msgId === last.msgId);
  await bobPhone.client.markRead(last.conversationId, last.msgId);
  await alicePhone.events.waitFor('receipt', (r) => r.status === 'read' && r.msgIds.includes(last.msgId));
  // Contact discovery: a number with an account, one without, and a malformed one (refused).
  for (const number of [unregisteredPhone, malformedPhone]) secrets.set(`phone ${number}`, Buffer.from(number));
  expect(await alicePhone.client.lookup([phones[1]!, unregisteredPhone])).toHaveLength(1);
  await expect(alicePhone.client.lookup([malformedPhone])).rejects.toThrow();
  // Devices acknowledge in batches (up to 250 ms after a message arrives): wait for each message's DELIVERED.
  for (const deadline = Date.now() + 15_000; !everySentMessageAcknowledged(); ) {
    if (Date.now() > deadline) throw new Error('not every message was acknowledged within 15 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await parley.drainStreams();

  for (const record of await readMessageStream(parley)) {
    if (record.data.kind !== 'message') continue;
    for (const envelope of record.data.envelopes as { ciphertext: string }[]) {
      secrets.set(`ciphertext of ${record.data.msgId}`, Buffer.from(envelope.ciphertext, 'base64').subarray(5, 45));
    }
    if (typeof record.data.preview === 'string' && record.data.preview.length >= 16) secrets.set(`preview of ${record.data.msgId}`, Buffer.from(record.data.preview));
  }
});
afterAll(async () => {
  for (const device of devices) device.client.close();
  await parley?.stop();
  jest.restoreAllMocks();
});

const lines = () => written.join('').split('\n').filter((line) => line.trim() !== '');
const entries = () => lines().map((line) => JSON.parse(line) as Record<string, unknown>);
const sentMessages = () => entries().filter((e) => e.route === 'send' && e.message === 'Frame handled');
/** The msgIds each handled DELIVERED names: one as msgId, more comma-separated as msgIds. */
const acknowledgedIds = () =>
  entries()
    .filter((e) => e.route === 'delivered' && e.message === 'Frame handled')
    .map((e) => String(e.msgIds ?? e.msgId));
const everySentMessageAcknowledged = () => {
  const named = acknowledgedIds().flatMap((ids) => ids.split(','));
  return sentMessages().every(({ msgId }) => named.includes(String(msgId)));
};

describe('What the handlers log during an end-to-end chat', () => {
  it('is one JSON object a line, at the levels set', () => {
    expect(lines().length).toBeGreaterThan(20);
    for (const line of lines()) expect(() => JSON.parse(line)).not.toThrow();
    expect(new Set(entries().map((e) => e.level))).toContain('DEBUG');
  });

  it('carries the correlation ids along a message’s path', () => {
    const sends = sentMessages();
    expect(sends.length).toBeGreaterThanOrEqual(4);
    for (const e of sends) {
      expect(e).toMatchObject({ msgId: expect.any(String), conversationId: expect.any(String), connectionId: expect.any(String), device: expect.stringMatching(/^[0-9a-f-]{36}\.\d+$/) });
    }
    const fanout = entries().filter((e) => e.consumer === 'fanout');
    expect(fanout.filter((e) => e.message === 'Queued').length).toBeGreaterThan(8);
    for (const e of fanout) {
      expect(e.conversationId).toEqual(expect.any(String));
      if (e.kind === 'message') expect(e.msgId).toEqual(expect.any(String));
      if (e.kind === 'receipt') expect(e.receiptId).toEqual(expect.any(String));
    }
    // Every message sent shows on the path from the route to each device's queue.
    for (const { msgId } of sends) expect(fanout.some((e) => e.msgId === msgId && e.message === 'Queued')).toBe(true);
    expect(fanout.some((e) => e.kind === 'receipt' && e.message === 'Queued')).toBe(true);
    // A DELIVERED's lines name the messages it acknowledges (taken from its cursors): one as msgId, more
    // comma-separated as msgIds, so a search by msgId finds them.
    const named = acknowledgedIds();
    expect(named.length).toBeGreaterThan(0);
    for (const ids of named) expect(ids).toMatch(/^[0-9a-f-]{36}(,[0-9a-f-]{36})*$/);
    expect(everySentMessageAcknowledged()).toBe(true);
  });

  it('logs one INFO line per refused frame, with its code and route and not its contents', () => {
    const refused = entries().filter((e) => e.message === 'Frame refused');
    expect(refused).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: 'INFO', code: 'FORBIDDEN', route: 'send', msgId: forgedMsgId }),
        expect.objectContaining({ level: 'INFO', code: 'BAD_REQUEST', route: 'send' }),
      ]),
    );
    for (const e of refused) expect(Object.keys(e)).not.toEqual(expect.arrayContaining(['envelopes']));
  });

  it('logs a refused lookup by its code and route, never its numbers', () => {
    expect(entries().filter((e) => e.route === 'lookupPhoneNumbers' && e.message === 'Request refused')).toEqual([
      expect.objectContaining({ level: 'INFO', code: 'BAD_REQUEST' }),
    ]);
  });

  it('holds no phone number, code, device secret, link token, ciphertext, preview or plaintext, in any encoding', () => {
    expect(codes).toHaveLength(2);
    expect([...secrets.keys()].filter((name) => name.startsWith('ciphertext')).length).toBeGreaterThanOrEqual(4);
    expect([...secrets.keys()].filter((name) => name.endsWith('device secret'))).toHaveLength(3);
    const data = lines().map((line) => ({ source: 'log', bytes: Buffer.from(line) }));
    expect(Object.fromEntries(findSecrets(data, secrets))).toEqual({});
    for (const code of codes) expect(lines().filter((line) => new RegExp(`(?<!\\d)${code}(?!\\d)`).test(line))).toEqual([]);
  });

  it('finds what is there: the scan sees a ciphertext logged on purpose', () => {
    const [name, ciphertext] = [...secrets].find(([n]) => n.startsWith('ciphertext'))!;
    const planted = [{ source: 'planted', bytes: Buffer.from(JSON.stringify({ leaked: Buffer.concat([Buffer.from('xx'), ciphertext]).toString('base64') })) }];
    expect(findSecrets(planted, new Map([[name, ciphertext]])).get(name)).toEqual(['planted']);
  });
});
