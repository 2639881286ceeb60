/**
 * The content types of the encrypted message format (replies, reactions, edits, deletes for everyone,
 * disappearing timers, a newer client's unknown types) and the rules a device applies to them.
 */
import { randomUUID } from 'node:crypto';
import { decodeContent, encodeContent, MAX_REACTION_CHARS, type MessageContent } from '../../client/content';
import { MessageActionError } from '../../client/errors';
import { EDIT_WINDOW_MS, kindOf, MessageActions } from '../../client/message-actions';
import { MessageLog } from '../../client/message-log';
import { MemoryStore } from '../../client/store/memory-store';

const padded = (json: string) => {
  const bytes = new Uint8Array(Math.ceil((json.length + 1) / 160) * 160);
  bytes.set(Buffer.from(json));
  bytes[json.length] = 0x80;
  return bytes;
};

describe('message content types', () => {
  const author = randomUUID();
  const msgId = randomUUID();
  const roundTrips: [string, MessageContent][] = [
    ['a reply', { text: 'yes!', replyTo: { author, msgId, excerpt: 'lunch at 1?' }, sentAt: 1 }],
    ['a reaction', { reaction: { author, msgId, emoji: '👍🏽' }, sentAt: 2 }],
    ['a removed reaction', { reaction: { author, msgId, emoji: null }, sentAt: 3 }],
    ['an edit', { edit: { msgId, text: 'lunch at 2?' }, sentAt: 4 }],
    ['a delete for everyone', { deleteForEveryone: { msgId }, sentAt: 5 }],
    ['a disappearing timer', { disappearing: { seconds: 86400 }, sentAt: 6 }],
    ['a message in a disappearing chat', { text: 'gone soon', expiresInSeconds: 604800, sentAt: 7 }],
  ];
  it.each(roundTrips)('carries %s', (_name, content) => {
    expect(decodeContent(encodeContent(content))).toEqual(content);
  });

  it('names each kind', () => {
    expect(roundTrips.map(([, content]) => kindOf(content))).toEqual(['message', 'reaction', 'reaction', 'edit', 'delete', 'disappearing', 'message']);
  });

  it('reads a newer client’s type or version as unsupported, never as nothing', () => {
    expect(decodeContent(padded('{"v":1,"type":"poll","sentAt":9,"question":"?"}'))).toEqual({ sentAt: 9, unsupported: { type: 'poll', version: 1 } });
    expect(decodeContent(padded('{"v":2,"sentAt":9,"text":"hi"}'))).toEqual({ sentAt: 9, unsupported: { type: 'unknown', version: 2 } });
    expect(kindOf(decodeContent(padded('{"v":2,"sentAt":9}')))).toBe('unsupported');
  });

  it('refuses a known type with the wrong fields', () => {
    const id = randomUUID();
    expect(() => decodeContent(padded(`{"v":1,"type":"reaction","sentAt":1,"target":{"msgId":"${id}"},"emoji":"x"}`))).toThrow('author');
    expect(() => decodeContent(padded(`{"v":1,"type":"reaction","sentAt":1,"target":{"author":"${id}","msgId":"${id}"},"emoji":"${'x'.repeat(17)}"}`))).toThrow('one emoji');
    expect(() => decodeContent(padded('{"v":1,"type":"edit","sentAt":1,"target":{"msgId":"nope"},"text":"x"}'))).toThrow('target msgId');
    expect(() => decodeContent(padded(`{"v":1,"type":"edit","sentAt":1,"target":{"msgId":"${id}"}}`))).toThrow('new text');
    expect(() => decodeContent(padded('{"v":1,"type":"disappearing","sentAt":1,"timerSeconds":60}'))).toThrow('disappearing timer');
    expect(() => decodeContent(padded(`{"v":1,"sentAt":1,"text":"x","replyTo":{"author":"${id}","msgId":"${id}","excerpt":"${'x'.repeat(101)}"}}`))).toThrow('reply');
    expect(() => decodeContent(padded('{"v":1,"sentAt":1,"text":"x","expiresInSeconds":5}'))).toThrow('expiresInSeconds');
  });
});

describe('MessageActions', () => {
  const alice = randomUUID();
  const bob = randomUUID();
  const chat = `direct:${[alice, bob].sort().join(':')}`;
  let clock: number;
  let log: MessageLog;
  let actions: MessageActions;
  const sentAt = 0;

  beforeEach(async () => {
    clock = 1_000_000;
    log = new MessageLog(new MemoryStore());
    admins = new Set([alice]);
    actions = new MessageActions(log, () => clock, async (_groupId, userId) => admins.has(userId));
  });
  let admins: Set<string>;

  const message = (author: string, text: string, extra: Partial<MessageContent> = {}) => {
    const msgId = randomUUID();
    return actions.apply({ author, msgId, conversationId: chat, serverTs: clock, content: { text, sentAt, ...extra }, own: author === alice }).then(() => ({ author, msgId }));
  };

  it('keeps one reaction per user per message: replaced, then removed', async () => {
    const ref = await message(bob, 'hi');
    await actions.apply({ author: alice, msgId: randomUUID(), conversationId: chat, serverTs: clock, content: { reaction: { ...ref, emoji: '👍' }, sentAt }, own: true });
    await actions.apply({ author: alice, msgId: randomUUID(), conversationId: chat, serverTs: clock, content: { reaction: { ...ref, emoji: '😂' }, sentAt }, own: true });
    await actions.apply({ author: bob, msgId: randomUUID(), conversationId: chat, serverTs: clock, content: { reaction: { ...ref, emoji: '❤️' }, sentAt }, own: false });
    expect((await log.get(ref))!.reactions).toEqual({ [alice]: '😂', [bob]: '❤️' });
    await actions.apply({ author: alice, msgId: randomUUID(), conversationId: chat, serverTs: clock, content: { reaction: { ...ref, emoji: null }, sentAt }, own: true });
    expect((await log.get(ref))!.reactions).toEqual({ [bob]: '❤️' });
  });

  it('refuses before sending: an unknown message, someone else’s, past the edit or delete window', async () => {
    const own = await message(alice, 'typo');
    const theirs = await message(bob, 'hers');
    await expect(actions.check(alice, { reaction: { author: bob, msgId: randomUUID(), emoji: '👍' }, sentAt })).rejects.toMatchObject({ code: 'UNKNOWN_MESSAGE' });
    await expect(actions.check(alice, { edit: { msgId: theirs.msgId, text: 'x' }, sentAt })).rejects.toMatchObject({ code: 'UNKNOWN_MESSAGE' });
    await expect(actions.check(bob, { edit: { msgId: own.msgId, text: 'x' }, sentAt })).rejects.toBeInstanceOf(MessageActionError);
    expect(await actions.check(alice, { edit: { msgId: own.msgId, text: 'fixed' }, sentAt })).toBe(chat);
    clock += EDIT_WINDOW_MS + 1;
    await expect(actions.check(alice, { edit: { msgId: own.msgId, text: 'fixed' }, sentAt })).rejects.toMatchObject({ code: 'EDIT_WINDOW_PASSED' });
    expect(await actions.check(alice, { deleteForEveryone: { msgId: own.msgId }, sentAt })).toBe(chat);
    clock += 48 * 3600 * 1000;
    await expect(actions.check(alice, { deleteForEveryone: { msgId: own.msgId }, sentAt })).rejects.toMatchObject({ code: 'DELETE_WINDOW_PASSED' });
  });

  it('applies a received edit and delete within their windows and refuses one past it, changing nothing', async () => {
    const ref = await message(bob, 'helo');
    expect(await actions.apply({ author: bob, msgId: randomUUID(), conversationId: chat, serverTs: clock + 1000, content: { edit: { msgId: ref.msgId, text: 'hello' }, sentAt }, own: false })).toBeUndefined();
    expect(await log.get(ref)).toMatchObject({ excerpt: 'hello', edited: true });
    const late = await actions.apply({ author: bob, msgId: randomUUID(), conversationId: chat, serverTs: clock + EDIT_WINDOW_MS + 1, content: { edit: { msgId: ref.msgId, text: 'later' }, sentAt }, own: false });
    expect(late).toMatch('15 minutes');
    expect(await log.get(ref)).toMatchObject({ excerpt: 'hello' });
    expect(await actions.apply({ author: bob, msgId: randomUUID(), conversationId: chat, serverTs: clock, content: { deleteForEveryone: { msgId: ref.msgId }, sentAt }, own: false })).toBeUndefined();
    expect(await log.get(ref)).toBeUndefined();
    // A reaction on a message this device does not have is refused; a delete of one is nothing to do.
    expect(await actions.apply({ author: bob, msgId: randomUUID(), conversationId: chat, serverTs: clock, content: { reaction: { ...ref, emoji: '👍' }, sentAt }, own: false })).toMatch('no message');
    expect(await actions.apply({ author: bob, msgId: randomUUID(), conversationId: chat, serverTs: clock, content: { deleteForEveryone: { msgId: ref.msgId }, sentAt }, own: false })).toBeUndefined();
  });

  it('keeps the texts an edit replaced on the device, oldest first, once per edit however often it comes', async () => {
    const ref = await message(bob, 'helo wrld');
    expect(await actions.editHistory(ref)).toEqual([]);
    const edit = (text: string, at: number) => ({ author: bob, msgId: randomUUID(), conversationId: chat, serverTs: at, content: { edit: { msgId: ref.msgId, text }, sentAt }, own: false });
    await actions.apply(edit('hello wrld', clock + 1000));
    const again = edit('hello world', clock + 2000);
    await actions.apply(again);
    await actions.apply(again);
    expect(await actions.editHistory(ref)).toEqual([
      { text: 'helo wrld', replacedAt: clock + 1000 },
      { text: 'hello wrld', replacedAt: clock + 2000 },
    ]);
    expect(await log.get(ref)).toMatchObject({ text: 'hello world', excerpt: 'hello world', edited: true });
    await expect(actions.editHistory({ author: bob, msgId: randomUUID() })).rejects.toMatchObject({ code: 'UNKNOWN_MESSAGE' });
  });

  it('refuses a reaction longer than receivers accept before sending', async () => {
    const ref = await message(bob, 'hi');
    const reaction = (emoji: string) => ({ reaction: { ...ref, emoji }, sentAt });
    expect(await actions.check(alice, reaction('x'.repeat(MAX_REACTION_CHARS)))).toBe(chat);
    await expect(actions.check(alice, reaction('x'.repeat(MAX_REACTION_CHARS + 1)))).rejects.toMatchObject({ code: 'REACTION_TOO_LONG' });
  });

  it('lets only a group’s admins set its timer, on sending and on receiving', async () => {
    const group = `group:${randomUUID()}`;
    expect(await actions.checkTimer(alice, group, 86400)).toBe(86400);
    await expect(actions.checkTimer(bob, group, 86400)).rejects.toMatchObject({ code: 'NOT_ADMIN' });
    await expect(actions.checkTimer(alice, group, 3600)).rejects.toMatchObject({ code: 'BAD_TIMER' });
    // Either member of a 1:1 chat may.
    expect(await actions.checkTimer(bob, chat, 0)).toBe(0);
    const timer = (author: string) => ({ author, msgId: randomUUID(), conversationId: group, serverTs: clock, content: { disappearing: { seconds: 604800 as const }, sentAt }, own: false });
    expect(await actions.apply(timer(bob))).toMatch('admin');
    expect(await actions.timerOf(group)).toBe(0);
    expect(await actions.apply(timer(alice))).toBeUndefined();
    expect(await actions.timerOf(group)).toBe(604800);
  });

  it('removes a disappearing message when its timer runs out after it was read, not before', async () => {
    await actions.apply({ author: bob, msgId: randomUUID(), conversationId: chat, serverTs: clock, content: { disappearing: { seconds: 86400 }, sentAt }, own: false });
    expect(await actions.timerOf(chat)).toBe(86400);
    const unread = await message(bob, 'secret', { expiresInSeconds: 86400 });
    const lasting = await message(bob, 'kept');
    clock += 2 * 86400 * 1000;
    expect(await actions.expire()).toEqual(new Map());
    await actions.read(chat, lasting.msgId);
    clock += 86400 * 1000 - 1;
    expect(await actions.expire()).toEqual(new Map());
    clock += 1;
    expect(await actions.expire()).toEqual(new Map([[chat, [unread]]]));
    expect(await log.get(unread)).toBeUndefined();
    expect(await log.get(lasting)).toBeDefined();
  });
});
