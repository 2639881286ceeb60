/**
 * Receiving: decrypt, dedupe by msgId, detect seq gaps, report what cannot be decrypted instead of showing
 * it, and acknowledge only what was handled.
 */
import { randomUUID } from 'node:crypto';
import type { PushFrame } from '../../lambdas/protocol/frames';
import { encodeContent } from '../../client/content';
import { DecryptedMessages } from '../../client/decrypted-messages';
import { Emitter, type ParleyEvents } from '../../client/events';
import { Inbox, type InboxDeps } from '../../client/inbox';
import { receivedMessageId, SeenMessages } from '../../client/seen-messages';
import { SequenceNumbers } from '../../client/sequence-numbers';
import { InMemoryKeyDirectory } from '../support/in-memory-key-directory';
import { sdkDevice, type SdkDevice } from '../support/sdk-device';

interface Harness {
  deps: InboxDeps;
  directory: InMemoryKeyDirectory;
  alice: SdkDevice;
  bob: SdkDevice;
  inbox: Inbox;
  log: string[];
  events: Emitter<ParleyEvents>;
  lowNotices: number;
  push(from: SdkDevice, text: string, seq: number, options?: { msgId?: string; content?: Uint8Array }): Promise<PushFrame>;
}

async function harness(): Promise<Harness> {
  const directory = new InMemoryKeyDirectory();
  const alice = await sdkDevice(directory);
  const bob = await sdkDevice(directory);
  await alice.recipients.devicesFor(bob.self.userId);
  const events = new Emitter<ParleyEvents>();
  const log: string[] = [];
  let lowNotices = 0;
  events.on('message', (m) => void log.push(`message ${m.text} seq ${m.seq}${m.outgoing ? ' outgoing' : ''}`));
  events.on('undecryptable', (u) => void log.push(`undecryptable ${u.reason}`));
  events.on('gap', (g) => void log.push(`gap ${g.expectedSeq}..${g.receivedSeq}`));
  events.on('receipt', (r) => void log.push(`receipt ${r.status}`));
  events.on('groupUpdate', (u) => void log.push(`groupUpdate v${u.version}`));
  const deps: InboxDeps = {
    self: bob.self,
    sessions: bob.sessions,
    recipients: bob.recipients,
    seen: new SeenMessages(bob.store, Date.now),
    decrypted: new DecryptedMessages(bob.store),
    sequence: new SequenceNumbers(bob.store),
    events,
    acknowledge: (id) => void log.push(`ack ${id}`),
    acknowledgeGroup: (conversationId, cursor) => void log.push(`ack ${conversationId} up to ${cursor}`),
    onPrekeysLow: () => void lowNotices++,
    senderKeys: bob.senderKeys,
    groupUpdated: async ({ changeId, cursor, type, complete, ...update }) => update,
    senderKeyWaitMs: 200,
  };
  const inbox = new Inbox(deps);
  const push: Harness['push'] = async (from, text, seq, options = {}) => {
    const envelope = await from.sessions.encrypt(bob.self, options.content ?? encodeContent({ text, sentAt: 1 }));
    const msgId = options.msgId ?? randomUUID();
    return {
      type: 'PUSH',
      msgId,
      conversationId: `direct:${[from.self.userId, bob.self.userId].sort().join(':')}`,
      from: from.self,
      seq,
      serverTs: Date.now(),
      envelope: { type: envelope.type, ciphertext: envelope.ciphertext },
      cursor: `${Date.now()}#${msgId}#${from.self.userId}`,
    };
  };
  return {
    deps,
    directory,
    alice,
    bob,
    inbox,
    log,
    events,
    get lowNotices() {
      return lowNotices;
    },
    push,
  };
}

describe('Inbox', () => {
  it('shows a message, then acknowledges it by its cursor only after the app stored it', async () => {
    const { inbox, log, events, alice, push } = await harness();
    events.on('message', async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      log.push('stored by the app');
    });
    const frame = await push(alice, 'hello', 1);
    await inbox.handle(frame);
    expect(log).toEqual(['message hello seq 1', 'stored by the app', `ack ${frame.cursor}`]);
  });

  it('shows a message again, from its stored plaintext, when handling it was cut short before', async () => {
    const { inbox, deps, log, alice, bob, push } = await harness();
    const frame = await push(alice, 'survives a crash', 1);
    // The process dies while the app handles the message: nothing after that happens.
    class Crash extends Error {}
    const dying = {
      emit: async (name: string) => {
        if (name === 'message') throw new Crash();
      },
    } as unknown as Emitter<ParleyEvents>;
    await expect(new Inbox({ ...deps, events: dying }).handle(frame)).rejects.toBeInstanceOf(Crash);
    expect(log).toEqual([]);
    expect(await bob.store.keys('decryptedMessages')).toEqual([receivedMessageId(alice.self, frame.msgId)]);
    await inbox.handle(frame);
    expect(log).toEqual(['message survives a crash seq 1', `ack ${frame.cursor}`]);
    expect(await bob.store.keys('decryptedMessages')).toEqual([]);
  });

  it('drops a message whose msgId it has seen, acknowledging it again', async () => {
    const { inbox, log, alice, push } = await harness();
    const frame = await push(alice, 'once', 1);
    await inbox.handle(frame);
    await inbox.handle(frame);
    expect(log).toEqual(['message once seq 1', `ack ${frame.cursor}`, `ack ${frame.cursor}`]);
  });

  it('shows two messages from different senders with the same msgId, each once: a msgId is unique per sender only', async () => {
    const { inbox, log, alice, bob, directory, push } = await harness();
    const carol = await sdkDevice(directory);
    await carol.recipients.devicesFor(bob.self.userId);
    const fromAlice = await push(alice, 'from alice', 1);
    const fromCarol = await push(carol, 'from carol', 1, { msgId: fromAlice.msgId });
    await inbox.handle(fromAlice);
    await inbox.handle(fromCarol);
    await inbox.handle(fromCarol);
    expect(log).toEqual(['message from alice seq 1', `ack ${fromAlice.cursor}`, 'message from carol seq 1', `ack ${fromCarol.cursor}`, `ack ${fromCarol.cursor}`]);
  });

  it('reports a replayed ciphertext under a new msgId, and a tampered one, without showing them', async () => {
    const { inbox, log, alice, bob, push } = await harness();
    const frame = await push(alice, 'original', 1);
    await inbox.handle(frame);
    const replay = { ...frame, msgId: randomUUID(), seq: 2 };
    await inbox.handle(replay);
    // Once Bob has replied, Alice's messages are SignalMessages, whose last 8 bytes are their MAC.
    await alice.sessions.decrypt(bob.self, await bob.sessions.encrypt(alice.self, encodeContent({ text: 'reply', sentAt: 1 })));
    const next = await push(alice, 'tampered text', 3);
    expect(next.envelope.type).toBe('message');
    const bytes = Buffer.from(next.envelope.ciphertext, 'base64');
    bytes[bytes.length - 1]! ^= 0x80;
    const tampered = { ...next, envelope: { ...next.envelope, ciphertext: bytes.toString('base64') } };
    await inbox.handle(tampered);
    expect(log).toEqual([
      'message original seq 1',
      `ack ${frame.cursor}`,
      'undecryptable replayed',
      `ack ${replay.cursor}`,
      'undecryptable invalid',
      `ack ${tampered.cursor}`,
    ]);
  });

  it('reports content that decrypts but is not a message', async () => {
    const { inbox, log, alice, push } = await harness();
    const frame = await push(alice, '', 1, { content: new Uint8Array(Buffer.from('{"not":"ours"}')) });
    await inbox.handle(frame);
    expect(log).toEqual(['undecryptable bad-content', `ack ${frame.cursor}`]);
  });

  it('reports a gap when a device skips seqs, from the first seq it saw, and not for a late one', async () => {
    const { inbox, log, alice, push } = await harness();
    const frames = [await push(alice, 'a', 4), await push(alice, 'b', 5), await push(alice, 'c', 6), await push(alice, 'd', 9)];
    for (const frame of [frames[0]!, frames[1]!, frames[3]!, frames[2]!]) await inbox.handle(frame);
    expect(log.filter((line) => !line.startsWith('ack'))).toEqual(['message a seq 4', 'message b seq 5', 'gap 6..9', 'message d seq 9', 'message c seq 6']);
  });

  it('marks a message from its own account as outgoing, and learns a peer device it did not know', async () => {
    const { inbox, log, bob, alice, directory, push } = await harness();
    const bobTablet = await sdkDevice(directory, { userId: bob.self.userId, deviceId: 2 });
    await bobTablet.recipients.devicesFor(alice.self.userId);
    await inbox.handle(await push(bobTablet, 'sent from my tablet', 1));
    expect(log[0]).toBe('message sent from my tablet seq 1 outgoing');

    // Alice links a laptop after Bob learned her devices; its first message puts it on Bob's list.
    expect(await bob.recipients.devicesFor(alice.self.userId)).toContainEqual(alice.self);
    const aliceLaptop = await sdkDevice(directory, { userId: alice.self.userId, deviceId: 3 });
    await aliceLaptop.recipients.devicesFor(bob.self.userId);
    const fetches = directory.fetches.length;
    await inbox.handle(await push(aliceLaptop, 'hi from my laptop', 1));
    const fetchesForAlice = () => directory.fetches.slice(fetches).filter((requests) => requests.some((r) => r.userId === alice.self.userId));
    expect((await bob.recipients.devicesFor(alice.self.userId)).map((d) => `${d.userId === alice.self.userId ? 'alice' : 'bob'}.${d.deviceId}`)).toEqual(['alice.1', 'alice.3', 'bob.2']);
    expect(fetchesForAlice()).toHaveLength(0);
  });

  it('shows a receipt once per receiptId and acknowledges it', async () => {
    const { inbox, log, alice } = await harness();
    const receipt = { type: 'RECEIPT' as const, receiptId: randomUUID(), status: 'read' as const, conversationId: 'c', msgIds: [randomUUID()], by: alice.self, serverTs: 1, cursor: 'x' };
    await inbox.handle(receipt);
    await inbox.handle(receipt);
    expect(log).toEqual(['receipt read', `ack ${receipt.cursor}`, `ack ${receipt.cursor}`]);
  });

  it('shows a delivery state (a receipt without a cursor) once, never acknowledges it, and keeps its time for the next SYNC', async () => {
    const h = await harness();
    const seenAt: number[] = [];
    const inbox = new Inbox({ ...h.deps, deliveryStateSeen: async (serverTs) => void seenAt.push(serverTs) });
    h.events.on('receipt', (r) => void h.log.push(`up to ${r.upToServerTs}`));
    const state = { type: 'RECEIPT' as const, receiptId: randomUUID(), status: 'delivered' as const, conversationId: 'c', msgIds: [randomUUID()], by: h.alice.self, upToServerTs: 5, serverTs: 7 };
    await inbox.handle(state);
    await inbox.handle(state);
    expect(h.log).toEqual(['receipt delivered', 'up to 5']);
    expect(seenAt).toEqual([7, 7]);
  });

  it('tops its prekeys up on PREKEYS_LOW and acknowledges the notice', async () => {
    const h = await harness();
    const noticeId = randomUUID();
    await h.inbox.handle({ type: 'PREKEYS_LOW', noticeId, oneTimePrekeys: 3, kyberPrekeys: 9, serverTs: 1, cursor: 'notice-cursor' });
    expect(h.lowNotices).toBe(1);
    expect(h.log).toEqual(['ack notice-cursor']);
  });
});

describe('Inbox and groups', () => {
  const groupId = randomUUID();

  /** Alice's Sender Key for the group, as the 1:1 message that gives it to Bob; and a group message encrypted with it. */
  async function aliceInGroup(h: Harness) {
    const distributionId = randomUUID();
    const skdm = await h.alice.senderKeys.distributionMessage(distributionId);
    const keyMessage = await h.push(h.alice, '', 1, { content: encodeContent({ sentAt: 1, senderKey: { groupId, distributionId, skdm } }) });
    let groupSeq = 0;
    const groupMessage = async (text: string, msgId = randomUUID()): Promise<PushFrame> => {
      return {
        type: 'PUSH',
        msgId,
        conversationId: `group:${groupId}`,
        from: h.alice.self,
        seq: ++groupSeq,
        serverTs: Date.now(),
        envelope: { type: 'senderKey', ciphertext: Buffer.from(await h.alice.senderKeys.encrypt(distributionId, encodeContent({ text, sentAt: 1 }))).toString('base64') },
        cursor: `${String(groupSeq).padStart(13, '0')}#${msgId}`,
      };
    };
    return { keyMessage, groupMessage };
  }

  it('processes a Sender Key without showing it, then decrypts the group message, with its groupId', async () => {
    const h = await harness();
    const { keyMessage, groupMessage } = await aliceInGroup(h);
    await h.inbox.handle(keyMessage);
    const message = await groupMessage('hello group');
    const shown = h.events.on('message', (m) => void expect(m).toMatchObject({ groupId, conversationId: `group:${groupId}`, text: 'hello group', outgoing: false }));
    await h.inbox.handle(message);
    shown();
    // A group message is acknowledged by its group's cursor, the 1:1 message that carried the key by its queue cursor.
    expect(h.log).toEqual([`ack ${keyMessage.cursor}`, 'message hello group seq 1', `ack group:${groupId} up to ${message.cursor}`]);
  });

  it('holds a group message that came before its Sender Key, unacknowledged, and shows it once the key comes', async () => {
    const h = await harness();
    const { keyMessage, groupMessage } = await aliceInGroup(h);
    const early = await groupMessage('too early');
    await h.inbox.handle(early);
    expect(h.log).toEqual([]);
    expect(h.inbox.heldFrom(early.conversationId)).toBe(early.cursor);
    await h.inbox.handle(early); // a redelivery while held changes nothing
    await h.inbox.handle(keyMessage);
    expect(h.inbox.heldFrom(early.conversationId)).toBeUndefined();
    expect(h.log).toEqual(['message too early seq 1', `ack group:${groupId} up to ${early.cursor}`, `ack ${keyMessage.cursor}`]);
  });

  it('reports a group message whose Sender Key never comes, and acknowledges it', async () => {
    const h = await harness();
    const { groupMessage } = await aliceInGroup(h);
    const orphan = await groupMessage('orphan');
    await h.inbox.handle(orphan);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.log).toEqual(['undecryptable no-sender-key', `ack group:${groupId} up to ${orphan.cursor}`]);
  });

  it('reports a tampered group message as invalid and a group message in a 1:1 conversation as bad content', async () => {
    const h = await harness();
    const { keyMessage, groupMessage } = await aliceInGroup(h);
    await h.inbox.handle(keyMessage);
    const tampered = await groupMessage('x');
    const bytes = Buffer.from(tampered.envelope.ciphertext, 'base64');
    bytes[bytes.length - 1]! ^= 1;
    await h.inbox.handle({ ...tampered, envelope: { type: 'senderKey', ciphertext: bytes.toString('base64') } });
    await h.inbox.handle({ ...(await groupMessage('y')), conversationId: keyMessage.conversationId });
    expect(h.log.filter((line) => line.startsWith('undecryptable'))).toEqual(['undecryptable invalid', 'undecryptable bad-content']);
  });

  it('shows a group update once and acknowledges it', async () => {
    const { inbox, log, alice } = await harness();
    const changeId = randomUUID();
    const update = { type: 'GROUP_UPDATE' as const, changeId, groupId, conversationId: `group:${groupId}`, version: 2, name: 'g', by: alice.self.userId, added: [], removed: [], madeAdmin: [], complete: true, serverTs: 1, cursor: 'change-cursor' };
    await inbox.handle(update);
    await inbox.handle(update);
    expect(log).toEqual(['groupUpdate v2', 'ack change-cursor', 'ack change-cursor']);
  });
});
