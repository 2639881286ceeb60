/**
 * What `parley chat` shows, kept apart from how it is drawn: the chats with their unread counts and
 * previews, each conversation's lines with their ticks, who is typing, the open chat's peer's presence,
 * blocked users, the connection state, and notices. It listens to the SDK's events only; the Ink view
 * (chat-app.tsx) renders it and re-renders on `changed`.
 */
import type { ConnectionStatus, ExpiredMessages, GroupUpdate, IdentityChanged, IncomingMessage, PresenceEvent, Receipt, TypingEvent } from '../../client';
import type { Chat } from '../../client/chat-list';
import { MAX_PRESENCE_SUBSCRIPTIONS } from '../../lambdas/protocol/frames';
import { directConversationId } from '../../lambdas/send/conversations';

/** ✓ sent (the server has it), ✓✓ delivered (a device of the peer has it), ✓✓ in colour read. */
export type Tick = 'sending' | 'sent' | 'delivered' | 'read' | 'failed';

export interface ChatLine {
  readonly msgId?: string;
  /** 'me', a userId, or 'notice' for what the app itself says in the conversation. */
  readonly from: string;
  /** Replaced by an edit or a delete for everyone. */
  text: string;
  readonly at: number;
  tick?: Tick;
  /** A reply's quoted excerpt, shown above the text. */
  quote?: string;
  /** The reactions to it, one per user ('me' for this account's). */
  reactions?: Map<string, string>;
  /** Its sender edited it. */
  edited?: true;
  /** Its sender deleted it for everyone: no text, quote or reactions any more. */
  deleted?: true;
}

export interface ChatEntry {
  readonly conversationId: string;
  /** The peer of a 1:1 chat, or the group. */
  readonly peer: { readonly userId: string } | { readonly groupId: string };
  title: string;
  unread: number;
  preview: string;
  lastActivityAt: number;
  readonly lines: ChatLine[];
  /** The newest message of the peer's, to mark read when the chat is open. */
  lastIncomingMsgId?: string;
  /** The users typing in it now (the SDK turns a `composing` not refreshed within 5 s into `paused`). */
  readonly typing: Set<string>;
  /** A group's members other than this user, once loaded (when the group is first opened), to watch their presence. */
  members?: string[];
}

/** A user's presence as the SDK last reported it. */
export type PeerPresence = Omit<PresenceEvent, 'userId'>;

/** The connection as the status bar shows it. */
export interface ConnectionView {
  readonly state: ConnectionStatus['state'];
  readonly detail?: string;
}

const TICK_ORDER: Tick[] = ['sending', 'sent', 'delivered', 'read'];

export class ChatModel {
  readonly chats = new Map<string, ChatEntry>();
  selected: string | undefined;
  connection: ConnectionView = { state: 'connecting' };
  /** Output of the last slash command (devices, a link token, safety numbers…), shown under the messages. */
  notice: string[] = [];
  /** A transfer under way: the progress bar's line. */
  progress: string | undefined;
  /**
   * The presence of the users watched (the open chat's peer): kept only while watched, since no
   * `presence` events come for the others and what was last heard of them goes stale.
   */
  readonly presence = new Map<string, PeerPresence>();
  /** The users this account blocked. */
  readonly blocked = new Set<string>();
  private syncing = 0;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly self: string,
    /** The name to show for a user: an alias set with /new or /name, else the start of the userId. */
    readonly nameOf: (userId: string) => string,
  ) {}

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed(): void {
    for (const listener of this.listeners) listener();
  }

  /** The chats, newest activity first. */
  ordered(): ChatEntry[] {
    return [...this.chats.values()].sort((a, b) => b.lastActivityAt - a.lastActivityAt);
  }

  current(): ChatEntry | undefined {
    return this.selected ? this.chats.get(this.selected) : undefined;
  }

  /** The chat list as the server keeps it, at start: previews and unread counts. */
  loadChatList(chats: readonly Chat[], groupNames: ReadonlyMap<string, string>): void {
    for (const chat of chats) {
      if (!chat.preview && !chat.unreadCount) continue; // a conversation that carried only keys
      const entry = this.chatFor(chat.conversationId, groupNames.get(chat.conversationId));
      if (!entry) continue;
      // The server's count may predate what SYNC already brought (and the open chat has been read).
      entry.unread = chat.conversationId === this.selected ? 0 : Math.max(entry.unread, chat.unreadCount);
      if (!entry.lines.length) entry.preview = chat.preview?.text ?? (chat.preview?.data ? 'bytes' : '');
      entry.lastActivityAt = Math.max(entry.lastActivityAt, chat.lastActivityAt);
    }
    this.selected ??= this.ordered()[0]?.conversationId;
    this.changed();
  }

  /** A chat for a conversation: made when first seen; `title` names a group. */
  chatFor(conversationId: string, title?: string): ChatEntry | undefined {
    const existing = this.chats.get(conversationId);
    if (existing) {
      if (title) existing.title = title;
      return existing;
    }
    const peer = peerOf(conversationId, this.self);
    if (!peer) return undefined;
    const entry: ChatEntry = {
      conversationId,
      peer,
      title: title ?? ('userId' in peer ? this.nameOf(peer.userId) : 'group'),
      unread: 0,
      preview: '',
      lastActivityAt: 0,
      lines: [],
      typing: new Set(),
    };
    this.chats.set(conversationId, entry);
    return entry;
  }

  select(conversationId: string): ChatEntry | undefined {
    const entry = this.chats.get(conversationId);
    if (!entry) return undefined;
    this.selected = conversationId;
    entry.unread = 0;
    this.changed();
    return entry;
  }

  /** Moves the selection `by` chats down (or up) the list. */
  move(by: number): ChatEntry | undefined {
    const list = this.ordered();
    if (!list.length) return undefined;
    const at = list.findIndex((c) => c.conversationId === this.selected);
    return this.select(list[(at + by + list.length) % list.length]!.conversationId);
  }

  /**
   * A message this device decrypted. Answers whether it is in the open chat (so the app marks it read).
   * An action (reaction, edit, delete, timer) changes what is shown but is no message: never unread, never the preview.
   */
  received(message: IncomingMessage, describe: (message: IncomingMessage) => string): boolean {
    const entry = this.chatFor(message.conversationId);
    if (!entry) return false;
    const by = message.outgoing ? 'me' : message.from.userId;
    if (this.connection.state === 'syncing') this.syncing++;
    if (this.acted(entry.conversationId, message, by)) return false;
    const text = message.kind === 'unsupported' ? 'unsupported message' : describe(message);
    entry.lines.push({
      msgId: message.msgId,
      from: by,
      text,
      at: message.serverTs,
      ...(message.outgoing ? { tick: 'sent' as Tick } : {}),
      ...(message.replyTo ? { quote: message.replyTo.excerpt } : {}),
    });
    entry.preview = text;
    entry.lastActivityAt = Math.max(entry.lastActivityAt, message.serverTs);
    this.selected ??= entry.conversationId;
    const open = this.selected === entry.conversationId;
    if (!message.outgoing) {
      entry.typing.delete(message.from.userId); // their message is what they were typing
      entry.lastIncomingMsgId = message.msgId;
      if (!open) entry.unread++;
    }
    this.changed();
    return open && !message.outgoing;
  }

  /** Applies a message that is an action; false for a message. */
  private acted(conversationId: string, message: IncomingMessage, by: string): boolean {
    const { reaction, edit, deleteForEveryone, disappearing } = message;
    if (message.kind === 'reaction' && reaction) this.reacted(conversationId, reaction.msgId, by, reaction.emoji);
    else if (message.kind === 'edit' && edit) this.edited(conversationId, edit.msgId, by, edit.text);
    else if (message.kind === 'delete' && deleteForEveryone) this.deleted(conversationId, deleteForEveryone.msgId, by);
    else if (message.kind === 'disappearing' && disappearing) this.timerChanged(conversationId, disappearing.seconds, message.serverTs);
    else return false;
    return true;
  }

  /** `by` ('me' or a userId) reacted to a message of the chat with `emoji`, replacing their previous one; null removes it. */
  reacted(conversationId: string, msgId: string, by: string, emoji: string | null): void {
    const line = this.line(conversationId, msgId);
    if (!line || line.deleted) return;
    line.reactions ??= new Map();
    if (emoji) line.reactions.set(by, emoji);
    else line.reactions.delete(by);
    this.changed();
  }

  /** `by` edited its own message (the SDK checked the author and window; the sender check here keeps a stray edit off others' lines). */
  edited(conversationId: string, msgId: string, by: string, text: string): void {
    const line = this.line(conversationId, msgId);
    if (!line || line.from !== by || line.deleted) return;
    line.text = text;
    line.edited = true;
    this.previewChanged(conversationId, line);
    this.changed();
  }

  /** `by` deleted its own message for everyone. */
  deleted(conversationId: string, msgId: string, by: string): void {
    const line = this.line(conversationId, msgId);
    if (!line || line.from !== by) return;
    line.text = by === 'me' ? 'You deleted this message' : 'This message was deleted';
    line.deleted = true;
    delete line.quote;
    delete line.reactions;
    delete line.edited;
    this.previewChanged(conversationId, line);
    this.changed();
  }

  /** The chat's disappearing timer changed: a system line. */
  timerChanged(conversationId: string, seconds: number, at: number): void {
    this.chatFor(conversationId)?.lines.push({ from: 'notice', text: `Disappearing messages: ${timerText(seconds)}`, at });
    this.changed();
  }

  /** Read messages whose disappearing timer ran out: gone from the view. */
  expired({ conversationId, messages }: ExpiredMessages): void {
    const entry = this.chats.get(conversationId);
    if (!entry) return;
    const gone = new Set(messages.map((ref) => ref.msgId));
    entry.lines.splice(0, entry.lines.length, ...entry.lines.filter((line) => !line.msgId || !gone.has(line.msgId)));
    this.changed();
  }

  /** The open chat's messages as `/reply <n>` and the others number them: 1 is the oldest shown. */
  numbered(entry: ChatEntry): Map<ChatLine, number> {
    const messages = entry.lines.filter((line) => line.msgId && line.from !== 'notice');
    return new Map(messages.map((line, i) => [line, i + 1]));
  }

  /** The message numbered `n` in the chat; without `n` the newest one, of this account's own when `own`. */
  pick(entry: ChatEntry, n: number | undefined, own = false): ChatLine | undefined {
    const numbered = [...this.numbered(entry).keys()];
    if (n !== undefined) return numbered[n - 1];
    return numbered.reverse().find((line) => !line.deleted && (!own || line.from === 'me'));
  }

  /** The chat list's preview follows an edit or delete of the chat's newest message. */
  private previewChanged(conversationId: string, line: ChatLine): void {
    const entry = this.chats.get(conversationId)!;
    if (entry.lines.findLast((l) => l.from !== 'notice') === line) entry.preview = line.text;
  }

  private line(conversationId: string, msgId: string): ChatLine | undefined {
    return this.chats.get(conversationId)?.lines.find((line) => line.msgId === msgId);
  }

  /** A message this device is sending: shown at once, ticked when the server has it. */
  sending(conversationId: string, text: string, quote?: string): ChatLine {
    const entry = this.chatFor(conversationId)!;
    const line: ChatLine = { from: 'me', text, at: Date.now(), tick: 'sending', ...(quote !== undefined ? { quote } : {}) };
    entry.lines.push(line);
    entry.preview = text;
    entry.lastActivityAt = line.at;
    this.changed();
    return line;
  }

  sent(line: ChatLine, msgId: string): void {
    (line as { msgId?: string }).msgId = msgId;
    this.raise(line, 'sent');
    this.changed();
  }

  failed(line: ChatLine): void {
    line.tick = 'failed';
    this.changed();
  }

  /**
   * A receipt: in a 1:1 chat any of the peer's devices ticks it; in a group only `everyone`. Read up to a
   * message reads everything before it too.
   */
  receipt(receipt: Receipt): void {
    const entry = this.chats.get(receipt.conversationId);
    if (!entry || receipt.status === 'sent' || receipt.by.userId === this.self) return;
    if ('groupId' in entry.peer && !receipt.everyone) return;
    const status: Tick = receipt.status;
    const mine = entry.lines.filter((line) => line.from === 'me' && line.msgId);
    if (status === 'read') {
      const upTo = mine.findIndex((line) => line.msgId === receipt.msgIds[0]);
      for (const line of mine.slice(0, upTo + 1)) this.raise(line, 'read');
    } else {
      for (const line of mine) if (receipt.msgIds.includes(line.msgId!)) this.raise(line, status);
    }
    this.changed();
  }

  connectionChanged(status: ConnectionStatus): void {
    if (status.state === 'syncing') this.syncing = 0;
    // Offline, no presence events come: what was heard goes stale until the SDK's subscription after the reconnect answers.
    if (status.state === 'offline' || status.state === 'closed') this.presence.clear();
    const detail =
      status.state === 'offline' ? `in ${Math.round((status.retryInMs ?? 0) / 1000)} s` : status.state === 'closed' ? status.reason : undefined;
    this.connection = { state: status.state, ...(detail ? { detail } : {}) };
    this.changed();
  }

  /** "syncing 3 messages" while SYNC runs. */
  connectionLine(): string {
    const { state, detail } = this.connection;
    if (state === 'online') return 'connected';
    if (state === 'syncing') return `syncing ${this.syncing} message${this.syncing === 1 ? '' : 's'}`;
    if (state === 'offline') return `reconnecting ${detail}`;
    if (state === 'closed') return `disconnected: ${detail}`;
    return 'connecting';
  }

  identityChanged(change: IdentityChanged): void {
    const entry = this.chatFor(directConversationId(this.self, change.device.userId));
    const who = `${this.nameOf(change.device.userId)} (device ${change.device.deviceId})`;
    const text = change.wasVerified
      ? `⚠ The security code of ${who}, which you verified, changed. Verify it again with /verify before trusting it.`
      : `The security code of ${who} changed.`;
    entry?.lines.push({ from: 'notice', text, at: Date.now() });
    this.changed();
  }

  /** The users whose presence the open chat shows: its 1:1 peer, or a group's members as far as the server lets one watch. */
  watchedUsers(): string[] {
    const chat = this.current();
    if (!chat) return [];
    return 'userId' in chat.peer ? [chat.peer.userId] : (chat.members ?? []).slice(0, MAX_PRESENCE_SUBSCRIPTIONS);
  }

  /** A group's members as the server has them. */
  membersLoaded(conversationId: string, userIds: readonly string[]): void {
    const entry = this.chats.get(conversationId);
    if (!entry) return;
    entry.members = userIds.filter((userId) => userId !== this.self);
    this.changed();
  }

  /** A membership change, for a group whose members are loaded. */
  membershipChanged(update: GroupUpdate): void {
    const entry = this.chats.get(update.conversationId);
    if (!entry?.members) return;
    const stay = entry.members.filter((userId) => !update.removed.includes(userId));
    entry.members = [...stay, ...update.added.filter((userId) => userId !== this.self && !stay.includes(userId))];
    this.changed();
  }

  /** The SDK now watches exactly these users: forget what was heard of the others. */
  watching(userIds: readonly string[]): void {
    for (const userId of this.presence.keys()) if (!userIds.includes(userId)) this.presence.delete(userId);
    this.changed();
  }

  /** A watched user's presence; a late answer for a chat no longer open is dropped, as it would go stale. */
  presenceChanged({ userId, ...presence }: PresenceEvent): void {
    if (!this.watchedUsers().includes(userId)) return;
    this.presence.set(userId, presence);
    this.changed();
  }

  /** Someone started or stopped typing; this account's own other devices are not shown. */
  typingChanged(typing: TypingEvent): void {
    const entry = this.chats.get(typing.conversationId);
    if (!entry || typing.from.userId === this.self) return;
    if (typing.state === 'composing') entry.typing.add(typing.from.userId);
    else entry.typing.delete(typing.from.userId);
    this.changed();
  }

  /** The users blocked when the chat starts (the server's list). */
  loadBlocks(userIds: readonly string[]): void {
    for (const userId of userIds) this.blocked.add(userId);
    this.changed();
  }

  blockChanged(userId: string, blocked: boolean): void {
    if (blocked) this.blocked.add(userId);
    else this.blocked.delete(userId);
    this.changed();
  }

  /** "typing…" in a 1:1 chat, "Bob, Carol typing…" in a group; undefined when nobody types. */
  typingLine(entry: ChatEntry): string | undefined {
    if (!entry.typing.size) return undefined;
    return 'userId' in entry.peer ? 'typing…' : `${[...entry.typing].map(this.nameOf).join(', ')} typing…`;
  }

  /** Whether the peer of a 1:1 chat is known to be online (the chat list's dot). */
  isOnline(entry: ChatEntry): boolean {
    return 'userId' in entry.peer && this.presence.get(entry.peer.userId)?.online === true;
  }

  /** What the conversation's header says after the title: blocked, typing…, online or last seen; in a group who is online. */
  status(entry: ChatEntry, now = Date.now()): string {
    if ('groupId' in entry.peer) {
      const online = (entry.members ?? []).filter((userId) => this.presence.get(userId)?.online);
      return this.typingLine(entry) ?? (online.length ? `${online.map(this.nameOf).join(', ')} online` : '');
    }
    const peer = entry.peer.userId;
    const presence = peer ? this.presence.get(peer) : undefined;
    const seen = presence?.online ? 'online' : presence?.lastSeen !== undefined ? `last seen ${lastSeenText(presence.lastSeen, now)}` : undefined;
    return [this.blocked.has(peer) ? 'blocked' : undefined, this.typingLine(entry) ?? seen].filter(Boolean).join(' · ');
  }

  say(...lines: string[]): void {
    this.notice = lines;
    this.changed();
  }

  private raise(line: ChatLine, to: Tick): void {
    if (line.tick === 'failed') return;
    if (TICK_ORDER.indexOf(to) > TICK_ORDER.indexOf(line.tick ?? 'sending')) line.tick = to;
  }
}

/** A disappearing timer as people say it: "24 hours", "7 days", "90 days" or "off". */
export function timerText(seconds: number): string {
  if (!seconds) return 'off';
  const hours = seconds / 3600;
  return hours < 48 ? `${hours} hours` : `${hours / 24} days`;
}

/** When a user was last seen, in this terminal's time zone: "today 14:03", "yesterday 09:15" or "2026-11-28 18:40". */
export function lastSeenText(lastSeen: number, now: number): string {
  const at = new Date(lastSeen);
  const two = (n: number) => String(n).padStart(2, '0');
  const time = `${two(at.getHours())}:${two(at.getMinutes())}`;
  const dayOf = (date: Date) => `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}`;
  const today = new Date(now);
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (dayOf(at) === dayOf(today)) return `today ${time}`;
  if (dayOf(at) === dayOf(yesterday)) return `yesterday ${time}`;
  return `${dayOf(at)} ${time}`;
}

/** The other side of a conversation: `direct:<a>:<b>` names two users, `group:<id>` a group. */
export function peerOf(conversationId: string, self: string): ChatEntry['peer'] | undefined {
  if (conversationId.startsWith('group:')) return { groupId: conversationId.slice('group:'.length) };
  const [kind, a, b] = conversationId.split(':');
  if (kind !== 'direct' || !a || !b) return undefined;
  return { userId: a === self ? b : a };
}
