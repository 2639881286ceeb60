/** `parley chat`'s controller against a recording SDK client: what it watches, when it says this user types, /new by phone, /block. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ChatModel } from '../../bin/chat/chat-model';
import { ChatSession, commandError } from '../../bin/chat/chat-session';
import { ContactNames } from '../../bin/chat/contact-names';
import { runSlashCommand } from '../../bin/chat/slash-commands';
import { MessageActionError, ParleyApiError, type MessageRef, type ParleyClient, type ParleyEvents } from '../../client';
import { directConversationId } from '../../lambdas/send/conversations';

const ME = '11111111-1111-4111-8111-111111111111';
const BOB = '22222222-2222-4222-8222-222222222222';
const CAROL = '33333333-3333-4333-8333-333333333333';
const NOBODY = '44444444-4444-4444-8444-444444444444';
const BOBS_PHONE = '+14155550102';
const withBob = directConversationId(ME, BOB);
const withCarol = directConversationId(ME, CAROL);

let folder: string;
beforeEach(async () => void (folder = await mkdtemp(path.join(tmpdir(), 'parley-chat-session-'))));
afterEach(() => rm(folder, { recursive: true, force: true }));

/** The SDK calls the session makes, recorded; `emit` plays an SDK event to the session. */
function recordingClient() {
  const listeners = new Map<string, (payload: unknown) => unknown>();
  const client = {
    userId: ME,
    on: (event: string, listener: (payload: unknown) => unknown) => (listeners.set(event, listener), () => undefined),
    connect: jest.fn(async () => undefined),
    listGroups: jest.fn(async () => []),
    chatList: jest.fn(async () => []),
    contacts: { blocked: jest.fn(async () => [{ userId: CAROL, blockedAt: 1 }]) },
    subscribePresence: jest.fn(async (userIds: readonly string[]) => {
      if (userIds.includes(NOBODY)) throw new ParleyApiError('NOT_FOUND', 'Some users have no account', undefined);
      return [];
    }),
    setTyping: jest.fn((_conversation: string, _state: 'composing' | 'paused') => true),
    lookup: jest.fn(async (numbers: readonly string[]) => numbers.filter((n) => n === BOBS_PHONE).map((phoneNumber) => ({ phoneNumber, userId: BOB }))),
    getGroup: jest.fn(async (groupId: string) => ({
      groupId,
      conversationId: `group:${groupId}`,
      name: 'Lunch',
      version: 1,
      members: [ME, BOB, CAROL].map((userId) => ({ userId, role: 'member', joinedAt: 1 })),
    })),
    block: jest.fn(async (_userId: string) => undefined),
    unblock: jest.fn(async (_userId: string) => undefined),
    markRead: jest.fn(async (_conversation: string, _upTo: string) => undefined),
    send: jest.fn(async (_to: string, _text: string) => ({ msgId: 'm2', serverTs: 2 })),
    reply: jest.fn(async (_target: MessageRef, _text: string) => ({ msgId: 'm3', serverTs: 3 })),
    react: jest.fn(async (_target: MessageRef, emoji: string | null) => {
      if (emoji && emoji.length > 16) throw new MessageActionError('REACTION_TOO_LONG', 'A reaction is one emoji: at most 16 characters');
      return { msgId: 'r1', serverTs: 4 };
    }),
    editHistory: jest.fn(async (target: MessageRef) => (target.msgId === 'm1' ? [{ text: 'hii', replacedAt: Date.now() }] : [])),
    edit: jest.fn(async (_target: MessageRef, _text: string): Promise<{ msgId: string }> => {
      throw new MessageActionError('EDIT_WINDOW_PASSED', 'A message can be edited for 15 minutes after it was sent');
    }),
    deleteForEveryone: jest.fn(async (_target: MessageRef) => ({ msgId: 'd1', serverTs: 5, dropped: 0 })),
    setDisappearing: jest.fn(async (_conversation: string, _seconds: number) => ({ msgId: 't1', serverTs: 6 })),
    emit: <E extends keyof ParleyEvents>(event: E, payload: ParleyEvents[E]) => listeners.get(event)?.(payload),
  };
  return client;
}

async function started() {
  const client = recordingClient();
  const names = await ContactNames.load(folder);
  const model = new ChatModel(ME, (userId) => names.nameOf(userId));
  const session = new ChatSession(client as unknown as ParleyClient, model, names, folder, () => undefined);
  await session.start();
  return { client, model, session };
}

/** Lets the promise callbacks of a slash command or a subscription run. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('ChatSession', () => {
  it('watches the open chat’s peer, again when another chat opens, and not again for the same chat', async () => {
    const { client, model } = await started();
    expect(client.subscribePresence).not.toHaveBeenCalled(); // no chat open, nothing to watch
    // Every way of opening a chat (a key, /new, the first message) ends in the model's selection.
    model.chatFor(withBob);
    model.select(withBob);
    expect(client.subscribePresence).toHaveBeenLastCalledWith([BOB]);
    client.emit('presence', { userId: BOB, online: true });
    expect(model.status(model.current()!)).toBe('online');
    model.chatFor(withCarol);
    model.select(withCarol);
    expect(client.subscribePresence).toHaveBeenLastCalledWith([CAROL]);
    expect(model.status(model.current()!)).toBe('blocked'); // the server's list of blocks, loaded at start
    model.select(withCarol);
    expect(client.subscribePresence).toHaveBeenCalledTimes(2);
    expect(model.presence.has(BOB)).toBe(false);
  });

  it('watches a group’s other members once they are loaded, and again when membership changes', async () => {
    const { client, model } = await started();
    model.chatFor('group:g1', 'Lunch');
    model.select('group:g1');
    await settled();
    expect(client.getGroup).toHaveBeenCalledWith('g1');
    expect(client.subscribePresence).toHaveBeenLastCalledWith([BOB, CAROL]);
    client.emit('presence', { userId: CAROL, online: true });
    expect(model.status(model.current()!)).toBe('33333333 online');
    client.emit('groupUpdate', { groupId: 'g1', conversationId: 'group:g1', version: 2, name: 'Lunch', by: ME, added: [], removed: [CAROL], madeAdmin: [], serverTs: 2 });
    expect(client.subscribePresence).toHaveBeenLastCalledWith([BOB]);
    expect(model.status(model.current()!)).toBe('');
    model.chatFor(withBob);
    model.select(withBob);
    model.select('group:g1');
    expect(client.getGroup).toHaveBeenCalledTimes(1); // loaded once, kept up by the updates
  });

  it('says a chat’s user has no account when the server knows none', async () => {
    const { model, session } = await started();
    await runSlashCommand(session, `/new ${NOBODY}`);
    await settled();
    expect(model.notice).toEqual(['44444444 has no Parley account']);
  });

  it('composes while the draft has text, pauses when it is cleared or sent or another chat opens; slash commands are not typing', async () => {
    const { client, model, session } = await started();
    await runSlashCommand(session, `/new ${BOB}`);
    session.draftChanged('h');
    session.draftChanged('hi');
    expect(client.setTyping.mock.calls).toEqual([
      [withBob, 'composing'],
      [withBob, 'composing'], // every keystroke: the SDK throttles
    ]);
    session.draftChanged('');
    expect(client.setTyping).toHaveBeenLastCalledWith(withBob, 'paused');
    client.setTyping.mockClear();
    session.draftChanged('/block');
    expect(client.setTyping).not.toHaveBeenCalled();
    session.draftChanged('wait');
    model.chatFor(withCarol);
    model.select(withCarol);
    expect(client.setTyping.mock.calls).toEqual([
      [withBob, 'composing'],
      [withBob, 'paused'],
    ]);
  });

  it('/new takes a phone number through lookup, and names one that is not on Parley', async () => {
    const { client, model, session } = await started();
    await expect(runSlashCommand(session, '/new +14155550199')).rejects.toThrow('+14155550199 is not on Parley');
    await expect(runSlashCommand(session, '/new bob')).rejects.toThrow('bob is neither a userId nor a phone number');
    await runSlashCommand(session, `/new ${BOBS_PHONE} Bob`);
    expect(client.lookup).toHaveBeenCalledWith([BOBS_PHONE]);
    expect(model.current()).toMatchObject({ conversationId: withBob, title: 'Bob' });
  });

  it('/block and /unblock the open 1:1 chat’s person, shown in its header; not without one or in a group', async () => {
    const { client, model, session } = await started();
    await expect(runSlashCommand(session, '/block')).rejects.toThrow('open a chat with one person first');
    model.chatFor('group:g1', 'Lunch');
    model.select('group:g1');
    await expect(runSlashCommand(session, '/block')).rejects.toThrow('open a chat with one person first');
    await runSlashCommand(session, `/new ${BOB} Bob`);
    await runSlashCommand(session, '/block');
    expect(client.block).toHaveBeenCalledWith(BOB);
    expect([model.status(model.current()!), model.notice]).toEqual(['blocked', ['You blocked Bob; /unblock undoes it']]);
    await runSlashCommand(session, '/unblock');
    expect(client.unblock).toHaveBeenCalledWith(BOB);
    expect(model.status(model.current()!)).toBe('');
  });

  describe("issue 14's commands on the open chat's messages, picked by the number the view shows", () => {
    /** A chat with Bob: his m1 ("hi", [1]) and this user's m2 ("mine", [2]). */
    async function chatWithBob() {
      const chat = await started();
      const { client, model, session } = chat;
      await runSlashCommand(session, `/new ${BOB} Bob`);
      client.emit('message', { msgId: 'm1', conversationId: withBob, from: { userId: BOB, deviceId: 1 }, outgoing: false, text: 'hi', kind: 'message', sentAt: 1, serverTs: 1, seq: 1 });
      session.submit('mine');
      await settled();
      expect(model.current()!.lines.map((line) => [model.numbered(model.current()!).get(line), line.text])).toEqual([
        [1, 'hi'],
        [2, 'mine'],
      ]);
      return chat;
    }
    const bobs = { author: BOB, msgId: 'm1' };
    const mine = { author: ME, msgId: 'm2' };

    it('/reply quotes message [n], or the newest without a number', async () => {
      const { client, model, session } = await chatWithBob();
      await runSlashCommand(session, '/reply 1 hello there');
      expect(client.reply).toHaveBeenLastCalledWith(bobs, 'hello there');
      expect(model.current()!.lines[2]).toMatchObject({ text: 'hello there', quote: 'hi', msgId: 'm3', tick: 'sent' });
      await runSlashCommand(session, '/reply ok');
      expect(client.reply).toHaveBeenLastCalledWith({ author: ME, msgId: 'm3' }, 'ok');
      await expect(runSlashCommand(session, '/reply 9 hm')).rejects.toThrow('no message [9] in this chat');
      await expect(runSlashCommand(session, '/reply 1')).rejects.toThrow('usage: /reply [n] <text>');
    });

    it('/react sets and removes this user’s reaction', async () => {
      const { client, model, session } = await chatWithBob();
      await runSlashCommand(session, '/react 1 👍');
      expect(client.react).toHaveBeenLastCalledWith(bobs, '👍');
      expect([...model.current()!.lines[0]!.reactions!]).toEqual([['me', '👍']]);
      await runSlashCommand(session, '/react 1');
      expect(client.react).toHaveBeenLastCalledWith(bobs, null);
      expect(model.current()!.lines[0]!.reactions!.size).toBe(0);
      session.submit('/react 1 notanemojiatallreally');
      await settled();
      expect(model.notice).toEqual(['/react: A reaction is one emoji: at most 16 characters (REACTION_TOO_LONG)']);
      expect([...model.current()!.lines[0]!.reactions!]).toEqual([]);
      await runSlashCommand(session, '/react 🎉'); // no number: the newest message
      expect(client.react).toHaveBeenLastCalledWith(mine, '🎉');
    });

    it("/edit and /delete take this user's newest message without a number; the SDK's refusal is one line with its code", async () => {
      const { client, model, session } = await chatWithBob();
      session.submit('/edit better');
      await settled();
      expect(client.edit).toHaveBeenLastCalledWith(mine, 'better');
      expect(model.notice).toEqual(['/edit: A message can be edited for 15 minutes after it was sent (EDIT_WINDOW_PASSED)']);
      expect(model.current()!.lines[1]).toMatchObject({ text: 'mine' });
      client.edit.mockResolvedValueOnce({ msgId: 'e1' });
      await runSlashCommand(session, '/edit 2 better');
      expect(model.current()!.lines[1]).toMatchObject({ text: 'better', edited: true });
      await runSlashCommand(session, '/delete');
      expect(client.deleteForEveryone).toHaveBeenLastCalledWith(mine);
      expect(model.current()!.lines[1]).toMatchObject({ text: 'You deleted this message', deleted: true });
      await expect(runSlashCommand(session, '/delete')).rejects.toThrow('no message of yours in this chat yet');
      await expect(runSlashCommand(session, '/edit 2 again')).rejects.toThrow('that message was deleted');
    });

    it('/history shows the earlier texts of message [n], kept by the SDK on this device', async () => {
      const { client, model, session } = await chatWithBob();
      client.emit('message', { msgId: 'e1', conversationId: withBob, from: { userId: BOB, deviceId: 1 }, outgoing: false, kind: 'edit', edit: { msgId: 'm1', text: 'hi!' }, sentAt: 2, serverTs: 2, seq: 2 });
      await runSlashCommand(session, '/history 1');
      expect(client.editHistory).toHaveBeenLastCalledWith(bobs);
      expect(model.notice).toEqual(['[1] before its edits, oldest first:', expect.stringMatching(/^ {2}hii {2}\(until today \d\d:\d\d\)$/), '  now: hi!']);
      await runSlashCommand(session, '/history 2');
      expect(model.notice).toEqual(['[2] was never edited']);
      await expect(runSlashCommand(session, '/history 9')).rejects.toThrow('no message [9] in this chat');
    });

    it('/disappearing sets the open chat’s timer and says so; anything but off|24h|7d|90d is refused', async () => {
      const { client, model, session } = await chatWithBob();
      await runSlashCommand(session, '/disappearing 7d');
      expect(client.setDisappearing).toHaveBeenLastCalledWith(withBob, 7 * 86400);
      expect(model.current()!.lines.at(-1)).toMatchObject({ from: 'notice', text: 'Disappearing messages: 7 days' });
      await expect(runSlashCommand(session, '/disappearing 1h')).rejects.toThrow('usage: /disappearing off|24h|7d|90d');
      expect(client.setDisappearing).toHaveBeenCalledTimes(1);
    });

    it('shows what comes from the SDK: actions, and expiry', async () => {
      const { client, model } = await chatWithBob();
      client.emit('message', { msgId: 'm5', conversationId: withBob, from: { userId: BOB, deviceId: 1 }, outgoing: false, kind: 'reaction', reaction: { ...mine, emoji: '❤️' }, sentAt: 5, serverTs: 5, seq: 2 });
      expect([...model.current()!.lines[1]!.reactions!]).toEqual([[BOB, '❤️']]);
      client.emit('expired', { conversationId: withBob, messages: [bobs] });
      expect(model.current()!.lines.map((line) => line.text)).toEqual(['mine']);
      expect(commandError('/x a', new Error('plain'))).toBe('/x: plain');
    });
  });
});
