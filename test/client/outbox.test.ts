/**
 * Sending: device lists learned from the key service and corrected by MISMATCHED_DEVICES, one message in
 * flight per conversation, and a resend of the same frame after a dropped connection. The server's side
 * is played here by a function that checks the envelopes against the devices the key service knows.
 */
import { randomUUID } from 'node:crypto';
import type { SendFrame } from '../../lambdas/protocol/frames';
import { ConnectionLostError, ParleyApiError } from '../../client/errors';
import type { Receipt } from '../../client/events';
import { Outbox } from '../../client/outbox';
import { NoKeysError } from '../../client/recipients';
import { SequenceNumbers } from '../../client/sequence-numbers';
import { InMemoryKeyDirectory } from '../support/in-memory-key-directory';
import { sdkDevice, type SdkDevice } from '../support/sdk-device';

type Send = Omit<SendFrame, 'requestId'>;

/** Answers a SEND as the server would: MISMATCHED_DEVICES unless it has one envelope per device the account has. */
function serverOf(directory: InMemoryKeyDirectory, sender: SdkDevice) {
  const sent: Send[] = [];
  const answer = async (frame: Send) => {
    sent.push(frame);
    const expected = [frame.to, sender.self.userId].flatMap((userId) =>
      [...(directory.devices.get(userId)?.keys() ?? [])].filter((deviceId) => userId !== sender.self.userId || deviceId !== sender.self.deviceId).map((deviceId) => `${userId}.${deviceId}`),
    );
    const got = frame.envelopes.map((e) => `${e.userId}.${e.deviceId}`);
    const toDevice = (key: string) => ({ userId: key.split('.')[0]!, deviceId: Number(key.split('.')[1]) });
    const missingDevices = expected.filter((key) => !got.includes(key)).map(toDevice);
    const extraDevices = got.filter((key) => !expected.includes(key)).map(toDevice);
    if (missingDevices.length || extraDevices.length) throw new ParleyApiError('MISMATCHED_DEVICES', 'mismatched devices', undefined, { missingDevices, extraDevices });
    return { type: 'ACK' as const, msgId: frame.msgId, serverTs: Date.now() };
  };
  return { sent, answer };
}

function outboxOf(device: SdkDevice, request: (frame: Send) => Promise<{ type: 'ACK'; msgId: string; serverTs: number }>, receipts: Receipt[] = []) {
  return new Outbox({
    self: device.self,
    recipients: device.recipients,
    sessions: device.sessions,
    sequence: new SequenceNumbers(device.store),
    // These tests send 1:1 only.
    request: (frame) => request(frame as Send),
    onSent: async (receipt) => void receipts.push(receipt),
  });
}

const utf8 = (text: string) => new Uint8Array(Buffer.from(text));

describe('Outbox', () => {
  it('encrypts once per recipient device and once per own other device, and reports the ACK as sent', async () => {
    const directory = new InMemoryKeyDirectory();
    const aliceId = randomUUID();
    const bobId = randomUUID();
    const alice = await sdkDevice(directory, { userId: aliceId, deviceId: 1 });
    const aliceTablet = await sdkDevice(directory, { userId: aliceId, deviceId: 2 });
    const bobs = await Promise.all([1, 2, 3].map((deviceId) => sdkDevice(directory, { userId: bobId, deviceId })));
    const server = serverOf(directory, alice);
    const receipts: Receipt[] = [];
    const sent = await outboxOf(alice, server.answer, receipts).send(bobId, utf8('hi all'));

    expect(server.sent).toHaveLength(1);
    const frame = server.sent[0]!;
    expect(frame.envelopes.map((e) => `${e.userId === aliceId ? 'alice' : 'bob'}.${e.deviceId}`).sort()).toEqual(['alice.2', 'bob.1', 'bob.2', 'bob.3']);
    expect(frame).toMatchObject({ msgId: sent.msgId, conversationId: sent.conversationId, to: bobId, seq: 1 });
    for (const device of [aliceTablet, ...bobs]) {
      const envelope = frame.envelopes.find((e) => e.userId === device.self.userId && e.deviceId === device.self.deviceId)!;
      expect(Buffer.from(await device.sessions.decrypt(alice.self, envelope)).toString()).toBe('hi all');
    }
    expect(receipts).toEqual([{ status: 'sent', conversationId: sent.conversationId, msgIds: [sent.msgId], by: alice.self, serverTs: sent.serverTs }]);
  });

  it('on MISMATCHED_DEVICES fetches only the missing devices, drops the extra ones, and resends', async () => {
    const directory = new InMemoryKeyDirectory();
    const bobId = randomUUID();
    const alice = await sdkDevice(directory);
    const bobs = await Promise.all([1, 2].map((deviceId) => sdkDevice(directory, { userId: bobId, deviceId })));
    const server = serverOf(directory, alice);
    const outbox = outboxOf(alice, server.answer);
    await outbox.send(bobId, utf8('first'));

    directory.removeDevice(bobId, 2);
    const bobLaptop = await sdkDevice(directory, { userId: bobId, deviceId: 3 });
    const fetchesBefore = directory.fetches.length;
    const second = await outbox.send(bobId, utf8('second'));

    expect(server.sent.slice(1).map((frame) => frame.envelopes.map((e) => e.deviceId).sort())).toEqual([
      [1, 2],
      [1, 3],
    ]);
    expect(server.sent.slice(1).every((frame) => frame.msgId === second.msgId && frame.seq === 2)).toBe(true);
    expect(directory.fetches.slice(fetchesBefore)).toEqual([[{ userId: bobId, deviceIds: [3] }]]);
    expect(await alice.sessions.hasSession({ userId: bobId, deviceId: 2 })).toBe(false);
    const envelope = server.sent.at(-1)!.envelopes.find((e) => e.deviceId === 3)!;
    expect(Buffer.from(await bobLaptop.sessions.decrypt(alice.self, envelope)).toString()).toBe('second');
    // Bob's phone keeps its session: its second message continues the ratchet.
    const toPhone = server.sent.at(-1)!.envelopes.find((e) => e.deviceId === 1)!;
    await bobs[0]!.sessions.decrypt(alice.self, server.sent[0]!.envelopes.find((e) => e.deviceId === 1)!);
    expect(Buffer.from(await bobs[0]!.sessions.decrypt(alice.self, toPhone)).toString()).toBe('second');
  });

  it('leaves out a listed device that lost its session and has no keys any more, and refuses a missing device without keys', async () => {
    const directory = new InMemoryKeyDirectory();
    const bobId = randomUUID();
    const alice = await sdkDevice(directory);
    await Promise.all([1, 2].map((deviceId) => sdkDevice(directory, { userId: bobId, deviceId })));
    const server = serverOf(directory, alice);
    const outbox = outboxOf(alice, server.answer);
    await outbox.send(bobId, utf8('first'));
    directory.removeDevice(bobId, 2);
    await alice.store.delete('sessions', `${bobId}.2`);
    await outbox.send(bobId, utf8('second'));
    expect(server.sent.at(-1)!.envelopes.map((e) => e.deviceId)).toEqual([1]);

    // The server knows a device that published no keys: nothing can be encrypted for it.
    const refusing = outboxOf(alice, async () => {
      throw new ParleyApiError('MISMATCHED_DEVICES', 'mismatched devices', undefined, { missingDevices: [{ userId: bobId, deviceId: 4 }], extraDevices: [] });
    });
    await expect(refusing.send(bobId, utf8('third'))).rejects.toMatchObject({ name: 'NoKeysError', devices: [{ userId: bobId, deviceId: 4 }] });
  });

  it('gives up after three MISMATCHED_DEVICES answers in a row', async () => {
    const directory = new InMemoryKeyDirectory();
    const bob = await sdkDevice(directory);
    const alice = await sdkDevice(directory);
    let refusals = 0;
    const outbox = outboxOf(alice, async () => {
      refusals++;
      throw new ParleyApiError('MISMATCHED_DEVICES', 'mismatched devices', undefined, { missingDevices: [], extraDevices: [] });
    });
    await expect(outbox.send(bob.self.userId, utf8('x'))).rejects.toMatchObject({ code: 'MISMATCHED_DEVICES' });
    expect(refusals).toBe(3);
  });

  it('refuses to send to a user with no published keys', async () => {
    const directory = new InMemoryKeyDirectory();
    const alice = await sdkDevice(directory);
    await expect(outboxOf(alice, serverOf(directory, alice).answer).send(randomUUID(), utf8('x'))).rejects.toBeInstanceOf(NoKeysError);
  });

  it('keeps one message in flight per conversation, in order, while conversations proceed side by side', async () => {
    const directory = new InMemoryKeyDirectory();
    const alice = await sdkDevice(directory);
    const bob = await sdkDevice(directory);
    const carol = await sdkDevice(directory);
    const server = serverOf(directory, alice);
    const inFlight = new Map<string, number>();
    let most = 0;
    let together = 0;
    const outbox = outboxOf(alice, async (frame) => {
      inFlight.set(frame.conversationId, (inFlight.get(frame.conversationId) ?? 0) + 1);
      most = Math.max(most, ...inFlight.values());
      together = Math.max(together, [...inFlight.values()].filter((n) => n > 0).length);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight.set(frame.conversationId, inFlight.get(frame.conversationId)! - 1);
      return server.answer(frame);
    });
    const sends = [];
    for (let i = 0; i < 5; i++) sends.push(outbox.send(bob.self.userId, utf8(`b${i}`)), outbox.send(carol.self.userId, utf8(`c${i}`)));
    const results = await Promise.all(sends);
    expect(most).toBe(1);
    expect(together).toBe(2);
    const toBob = server.sent.filter((frame) => frame.to === bob.self.userId);
    expect(toBob.map((frame) => frame.seq)).toEqual([1, 2, 3, 4, 5]);
    const texts = [];
    for (const frame of toBob) texts.push(Buffer.from(await bob.sessions.decrypt(alice.self, frame.envelopes[0]!)).toString());
    expect(texts).toEqual(['b0', 'b1', 'b2', 'b3', 'b4']);
    expect(new Set(results.map((r) => r.msgId)).size).toBe(10);
  });

  it('resends the very same frame after the connection dropped before the ACK', async () => {
    const directory = new InMemoryKeyDirectory();
    const alice = await sdkDevice(directory);
    const bob = await sdkDevice(directory);
    const server = serverOf(directory, alice);
    let drops = 1;
    const attempts: Send[] = [];
    const sent = await outboxOf(alice, async (frame) => {
      attempts.push(frame);
      if (drops-- > 0) throw new ConnectionLostError();
      return server.answer(frame);
    }).send(bob.self.userId, utf8('once'));
    expect(attempts).toHaveLength(2);
    expect(attempts[1]).toEqual(attempts[0]);
    expect(sent.msgId).toBe(attempts[0]!.msgId);
  });
});
