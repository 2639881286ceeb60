/** What `parley chat` shows, from the SDK's events: ticks, unread counts, the connection line, notices. */
import { ChatModel, type ChatLine, lastSeenText, peerOf, timerText } from '../../bin/chat/chat-model';
import type { IncomingMessage, Receipt, TypingEvent } from '../../client';
import { directConversationId } from '../../lambdas/send/conversations';

const ME = '11111111-1111-4111-8111-111111111111';
const BOB = '22222222-2222-4222-8222-222222222222';
const CAROL = '33333333-3333-4333-8333-333333333333';
const withBob = directConversationId(ME, BOB);
const group = 'group:g1';

const message = (msgId: string, conversationId: string, from: string, text: string, outgoing = false): IncomingMessage =>
  ({ msgId, conversationId, from: { userId: from, deviceId: 1 }, outgoing, text, sentAt: 1, serverTs: Number(msgId.slice(1)) || 1, seq: 1 }) as IncomingMessage;
const receipt = (status: Receipt['status'], conversationId: string, msgIds: string[], by = BOB, everyone?: true): Receipt => ({
  status,
  conversationId,
  msgIds,
  by: { userId: by, deviceId: 1 },
  serverTs: 1,
  ...(everyone ? { everyone } : {}),
});
const text = (m: IncomingMessage) => m.text!;
/** A message of `kind` with its content fields, as the SDK emits it. */
const action = (msgId: string, from: string, fields: Partial<IncomingMessage>, outgoing = false): IncomingMessage =>
  ({ ...message(msgId, withBob, from, '', outgoing), text: undefined, ...fields }) as IncomingMessage;

function model() {
  return new ChatModel(ME, (userId) => ({ [BOB]: 'Bob', [CAROL]: 'Carol' })[userId] ?? userId.slice(0, 8));
}

describe('ChatModel', () => {
  it('ticks a message ✓ at the server, ✓✓ when delivered, read when read up to it or a later one; never backwards', () => {
    const m = model();
    const first = m.sending(withBob, 'one');
    const second = m.sending(withBob, 'two');
    expect(first.tick).toBe('sending');
    m.sent(first, 'm1');
    m.sent(second, 'm2');
    expect([first.tick, second.tick]).toEqual(['sent', 'sent']);
    m.receipt(receipt('delivered', withBob, ['m1']));
    expect([first.tick, second.tick]).toEqual(['delivered', 'sent']);
    m.receipt(receipt('read', withBob, ['m2']));
    expect([first.tick, second.tick]).toEqual(['read', 'read']);
    m.receipt(receipt('delivered', withBob, ['m1', 'm2'])); // a late delivery receipt
    expect([first.tick, second.tick]).toEqual(['read', 'read']);
  });

  it('in a group, ticks only when everyone has it or read it; receipts from this account’s other devices tick nothing', () => {
    const m = model();
    m.chatFor(group, 'Lunch');
    const line = m.sending(group, 'hi all');
    m.sent(line, 'm1');
    m.receipt(receipt('delivered', group, ['m1'], BOB));
    expect(line.tick).toBe('sent');
    m.receipt(receipt('delivered', group, ['m1'], CAROL, true));
    expect(line.tick).toBe('delivered');
    m.receipt(receipt('read', withBob, ['m1'], ME));
    expect(line.tick).toBe('delivered');
  });

  it('counts unread in chats that are not open, and says when a message came into the open chat (to mark it read)', () => {
    const m = model();
    expect(m.received(message('m1', withBob, BOB, 'hello'), text)).toBe(true); // the first chat opens itself
    expect(m.received(message('m2', group, CAROL, 'in the group'), text)).toBe(false);
    m.received(message('m3', group, CAROL, 'again'), text);
    expect(m.chats.get(group)).toMatchObject({ unread: 2, preview: 'again' });
    expect(m.chats.get(withBob)).toMatchObject({ unread: 0, title: 'Bob', lastIncomingMsgId: 'm1' });
    expect(m.ordered().map((c) => c.conversationId)).toEqual([group, withBob]);
    m.select(group);
    expect(m.chats.get(group)!.unread).toBe(0);
    expect(m.received(message('m4', withBob, ME, 'from my laptop', true), text)).toBe(false);
    expect(m.chats.get(withBob)!.lines.at(-1)).toMatchObject({ from: 'me', tick: 'sent', text: 'from my laptop' });
  });

  it('keeps the larger unread count when the server’s chat list comes after SYNC, and none for the open chat', () => {
    const m = model();
    m.received(message('m1', withBob, BOB, 'hi'), text);
    m.received(message('m2', group, CAROL, 'a'), text);
    m.loadChatList(
      [
        { conversationId: withBob, lastActivityAt: 5, lastMsgId: 'm1', unreadCount: 1, preview: { msgId: 'm1', from: BOB, sentAt: 1, text: 'hi' } },
        { conversationId: group, lastActivityAt: 6, lastMsgId: 'm2', unreadCount: 3 },
        { conversationId: directConversationId(ME, CAROL), lastActivityAt: 7, lastMsgId: 'k', unreadCount: 0 }, // keys only
      ],
      new Map([[group, 'Lunch']]),
    );
    expect(m.chats.get(withBob)!.unread).toBe(0);
    expect(m.chats.get(group)).toMatchObject({ unread: 3, title: 'Lunch' });
    expect(m.chats.has(directConversationId(ME, CAROL))).toBe(false);
  });

  it('shows the connection: connecting, syncing n messages, connected, reconnecting, disconnected', () => {
    const m = model();
    expect(m.connectionLine()).toBe('connecting');
    m.connectionChanged({ state: 'syncing' });
    m.received(message('m1', withBob, BOB, 'a'), text);
    m.received(message('m2', withBob, BOB, 'b'), text);
    expect(m.connectionLine()).toBe('syncing 2 messages');
    m.connectionChanged({ state: 'online' });
    expect(m.connectionLine()).toBe('connected');
    m.connectionChanged({ state: 'offline', retryInMs: 4000 });
    expect(m.connectionLine()).toBe('reconnecting in 4 s');
    m.connectionChanged({ state: 'closed', reason: 'CONNECTED_ELSEWHERE' });
    expect(m.connectionLine()).toBe('disconnected: CONNECTED_ELSEWHERE');
  });

  it('warns in the conversation when a contact’s security code changes, louder when it was verified', () => {
    const m = model();
    m.identityChanged({ device: { userId: BOB, deviceId: 1 } });
    m.identityChanged({ device: { userId: BOB, deviceId: 2 }, wasVerified: true });
    expect(m.chats.get(withBob)!.lines.map((l) => [l.from, l.text])).toEqual([
      ['notice', 'The security code of Bob (device 1) changed.'],
      ['notice', '⚠ The security code of Bob (device 2), which you verified, changed. Verify it again with /verify before trusting it.'],
    ]);
  });

  it('shows the open chat’s peer online, or last seen, and forgets it once no longer watched or offline', () => {
    const m = model();
    m.received(message('m1', withBob, BOB, 'hi'), text);
    const bob = m.chats.get(withBob)!;
    expect(m.watchedUsers()).toEqual([BOB]);
    expect(m.status(bob)).toBe('');
    m.presenceChanged({ userId: BOB, online: true });
    expect([m.status(bob), m.isOnline(bob)]).toEqual(['online', true]);
    const now = new Date(2026, 11, 1, 20, 0).getTime();
    m.presenceChanged({ userId: BOB, online: false, lastSeen: new Date(2026, 11, 1, 14, 3).getTime() });
    expect([m.status(bob, now), m.isOnline(bob)]).toEqual(['last seen today 14:03', false]);
    m.presenceChanged({ userId: BOB, online: false }); // Bob shows his last seen to nobody
    expect(m.status(bob, now)).toBe('');
    m.presenceChanged({ userId: BOB, online: true });
    m.connectionChanged({ state: 'offline', retryInMs: 1000 }); // no events while offline: it would go stale
    expect(m.status(bob)).toBe('');
    m.presenceChanged({ userId: BOB, online: true }); // the subscription's answer after the reconnect
    m.chatFor(group, 'Lunch');
    m.select(group);
    expect(m.watchedUsers()).toEqual([]);
    m.watching([]);
    expect(m.isOnline(bob)).toBe(false);
    m.presenceChanged({ userId: BOB, online: true }); // the answer of a subscription since replaced
    expect(m.isOnline(bob)).toBe(false);
  });

  it('in a group, watches the other members once loaded, follows membership changes, and says who is online', () => {
    const m = model();
    m.chatFor(group, 'Lunch');
    m.select(group);
    expect(m.watchedUsers()).toEqual([]);
    m.membersLoaded(group, [ME, BOB, CAROL]);
    expect(m.watchedUsers()).toEqual([BOB, CAROL]);
    const lunch = m.current()!;
    expect(m.status(lunch)).toBe('');
    m.presenceChanged({ userId: BOB, online: true });
    m.presenceChanged({ userId: CAROL, online: true });
    expect(m.status(lunch)).toBe('Bob, Carol online');
    m.membershipChanged({ groupId: 'g1', conversationId: group, version: 2, name: 'Lunch', by: ME, added: [ME], removed: [BOB], madeAdmin: [], serverTs: 2 });
    expect([m.watchedUsers(), m.status(lunch)]).toEqual([[CAROL], 'Carol online']);
    m.membersLoaded(group, Array.from({ length: 70 }, (_, i) => `${i}`.padStart(8, '0')));
    expect(m.watchedUsers()).toHaveLength(64); // the server watches at most 64 users per connection
  });

  it('says when a user was last seen: today, yesterday, or the date', () => {
    const now = new Date(2026, 0, 1, 0, 30).getTime();
    expect(lastSeenText(new Date(2026, 0, 1, 0, 5).getTime(), now)).toBe('today 00:05');
    expect(lastSeenText(new Date(2025, 11, 31, 23, 59).getTime(), now)).toBe('yesterday 23:59');
    expect(lastSeenText(new Date(2025, 11, 30, 9, 7).getTime(), now)).toBe('2025-12-30 09:07');
  });

  it('shows typing… until paused, expired or their message comes; names the typists in a group; not this account’s other devices', () => {
    const m = model();
    m.received(message('m1', withBob, BOB, 'hi'), text);
    m.chatFor(group, 'Lunch');
    const typing = (conversationId: string, from: string, state: TypingEvent['state'], expired?: true): TypingEvent => ({
      conversationId,
      from: { userId: from, deviceId: 1 },
      state,
      ...(expired ? { expired } : {}),
    });
    const bob = m.chats.get(withBob)!;
    const lunch = m.chats.get(group)!;
    m.presenceChanged({ userId: BOB, online: true });
    m.typingChanged(typing(withBob, BOB, 'composing'));
    expect([m.status(bob), m.typingLine(bob)]).toEqual(['typing…', 'typing…']);
    m.typingChanged(typing(withBob, BOB, 'paused'));
    expect(m.status(bob)).toBe('online');
    m.typingChanged(typing(withBob, BOB, 'composing'));
    m.typingChanged(typing(withBob, BOB, 'paused', true));
    expect(m.typingLine(bob)).toBeUndefined();
    m.typingChanged(typing(withBob, BOB, 'composing'));
    m.received(message('m2', withBob, BOB, 'there it is'), text);
    expect(m.typingLine(bob)).toBeUndefined();
    m.typingChanged(typing(group, CAROL, 'composing'));
    m.typingChanged(typing(group, BOB, 'composing'));
    m.typingChanged(typing(group, ME, 'composing'));
    expect(m.typingLine(lunch)).toBe('Carol, Bob typing…');
    m.typingChanged(typing('group:unknown', CAROL, 'composing')); // a chat it does not show: nothing to say
    expect(m.chats.has('group:unknown')).toBe(false);
  });

  it('shows blocked in the header, from the server’s list at start and from /block and /unblock', () => {
    const m = model();
    m.received(message('m1', withBob, BOB, 'hi'), text);
    const bob = m.chats.get(withBob)!;
    m.loadBlocks([BOB]);
    m.presenceChanged({ userId: BOB, online: true });
    expect(m.status(bob)).toBe('blocked · online');
    m.blockChanged(BOB, false);
    expect(m.status(bob)).toBe('online');
    m.blockChanged(BOB, true);
    expect(m.blocked.has(BOB)).toBe(true);
  });

  it('knows the other side of a conversation id', () => {
    expect(peerOf(withBob, ME)).toEqual({ userId: BOB });
    expect(peerOf('group:abc', ME)).toEqual({ groupId: 'abc' });
    expect(peerOf('nonsense', ME)).toBeUndefined();
  });

  describe("issue 14's message features", () => {
    /** Bob's m1 ("hi"), then this user's m2 ("mine"), with the chat open. */
    function chat() {
      const m = model();
      m.received({ ...message('m1', withBob, BOB, 'hi'), kind: 'message' }, text);
      m.sent(m.sending(withBob, 'mine'), 'm2');
      const [theirs, mine] = m.chats.get(withBob)!.lines as [ChatLine, ChatLine];
      return { m, entry: m.chats.get(withBob)!, theirs, mine };
    }

    it('shows a reply with its quoted excerpt', () => {
      const { m, entry } = chat();
      m.received({ ...message('m3', withBob, BOB, 'yes'), kind: 'message', replyTo: { author: ME, msgId: 'm2', excerpt: 'mine' } }, text);
      expect(entry.lines[2]).toMatchObject({ text: 'yes', quote: 'mine' });
    });

    it('keeps one reaction per user, replaced or removed; never unread nor the preview', () => {
      const { m, entry, mine } = chat();
      m.chatFor(group);
      m.select(group); // the chat is not open: a message would count as unread
      m.received(action('m3', BOB, { kind: 'reaction', reaction: { author: ME, msgId: 'm2', emoji: '👍' } }), text);
      m.received(action('m4', BOB, { kind: 'reaction', reaction: { author: ME, msgId: 'm2', emoji: '❤️' } }), text);
      m.received(action('m5', ME, { kind: 'reaction', reaction: { author: ME, msgId: 'm2', emoji: '😂' } }, true), text);
      expect([...mine.reactions!]).toEqual([[BOB, '❤️'], ['me', '😂']]);
      m.received(action('m6', BOB, { kind: 'reaction', reaction: { author: ME, msgId: 'm2', emoji: null } }), text);
      expect([...mine.reactions!]).toEqual([['me', '😂']]);
      expect([entry.unread, entry.preview, entry.lines.length]).toEqual([0, 'mine', 2]);
      m.received({ ...message('m7', withBob, BOB, 'and a message'), kind: 'message' }, text);
      expect([entry.unread, entry.preview]).toEqual([1, 'and a message']);
    });

    it("replaces an edited message's text with an edited mark, only when its sender edits it", () => {
      const { m, theirs, mine } = chat();
      m.received(action('m3', BOB, { kind: 'edit', edit: { msgId: 'm2', text: 'forged' } }), text);
      expect(mine).toMatchObject({ text: 'mine' });
      expect(mine.edited).toBeUndefined();
      m.received(action('m4', BOB, { kind: 'edit', edit: { msgId: 'm1', text: 'hello' } }), text);
      expect(theirs).toMatchObject({ text: 'hello', edited: true });
    });

    it('shows a deleted message as deleted, own and theirs, without its reactions', () => {
      const { m, theirs, mine } = chat();
      m.reacted(withBob, 'm1', 'me', '👍');
      m.received(action('m3', BOB, { kind: 'delete', deleteForEveryone: { msgId: 'm1' } }), text);
      m.edited(withBob, 'm2', 'me', 'mine, edited');
      expect(m.chats.get(withBob)!.preview).toBe('mine, edited'); // the newest message: the preview follows
      m.deleted(withBob, 'm2', 'me');
      expect([theirs.text, mine.text]).toEqual(['This message was deleted', 'You deleted this message']);
      expect(m.chats.get(withBob)!.preview).toBe('You deleted this message');
      expect(theirs.reactions).toBeUndefined();
    });

    it('says when the disappearing timer changes, shows unsupported content, and removes expired messages', () => {
      const { m, entry } = chat();
      m.received(action('m3', BOB, { kind: 'disappearing', disappearing: { seconds: 86400 } }), text);
      m.received(action('m4', BOB, { kind: 'disappearing', disappearing: { seconds: 0 } }), text);
      m.received(action('m5', BOB, { kind: 'unsupported', unsupported: { type: 'poll', version: 2 } }), text);
      expect(entry.lines.slice(2).map((line) => [line.from, line.text])).toEqual([
        ['notice', 'Disappearing messages: 24 hours'],
        ['notice', 'Disappearing messages: off'],
        [BOB, 'unsupported message'],
      ]);
      expect(entry.preview).toBe('unsupported message');
      m.expired({ conversationId: withBob, messages: [{ author: BOB, msgId: 'm1' }, { author: BOB, msgId: 'm5' }] });
      expect(entry.lines.map((line) => line.text)).toEqual(['mine', 'Disappearing messages: 24 hours', 'Disappearing messages: off']);
      expect([timerText(7 * 86400), timerText(90 * 86400)]).toEqual(['7 days', '90 days']);
    });

    it('numbers the messages for the slash commands and picks the newest (own) one without a number', () => {
      const { m, entry, theirs, mine } = chat();
      m.timerChanged(withBob, 0, 3);
      expect([...m.numbered(entry).values()]).toEqual([1, 2]);
      expect([m.pick(entry, 1), m.pick(entry, 2), m.pick(entry, 3)]).toEqual([theirs, mine, undefined]);
      expect(m.pick(entry, undefined)).toBe(mine);
      m.deleted(withBob, 'm2', 'me');
      expect([m.pick(entry, undefined), m.pick(entry, undefined, true)]).toEqual([theirs, undefined]);
    });
  });
});
