/**
 * `parley chat`'s controller: feeds the SDK's events into the ChatModel, sends what is typed, marks the open
 * chat read, saves received files, watches the presence of the open chat's peers, says when this user types, and
 * runs slash commands (slash-commands.ts).
 */
import { ParleyApiError, type IncomingMessage, type ParleyClient } from '../../client';
import { receivedFilePath } from '../../client/media/received-files';
import type { ChatModel } from './chat-model';
import type { ContactNames } from './contact-names';
import { runSlashCommand } from './slash-commands';

export class ChatSession {
  /** The chat whose peer is watched and where the draft counts as typing. */
  private openChat: string | undefined;
  /** The conversation told this user is composing, until it is told `paused`. */
  private composingIn: string | undefined;
  /** The users whose presence the SDK watches for this chat, joined. */
  private watched = '';

  constructor(
    readonly client: ParleyClient,
    readonly model: ChatModel,
    readonly names: ContactNames,
    /** Where received files are saved. */
    readonly downloads: string,
    /** Ends the chat (/quit). */
    readonly quit: () => void,
  ) {}

  /** Listens to the client, loads the chat list and groups, and connects. */
  async start(): Promise<void> {
    const { client, model } = this;
    client.on('message', (message) => this.received(message));
    client.on('receipt', (receipt) => model.receipt(receipt));
    client.on('expired', (expired) => model.expired(expired));
    client.on('connection', (status) => model.connectionChanged(status));
    client.on('identityChanged', (change) => model.identityChanged(change));
    client.on('presence', (presence) => model.presenceChanged(presence));
    client.on('typing', (typing) => model.typingChanged(typing));
    client.on('groupUpdate', (update) => {
      const entry = model.chatFor(update.conversationId, update.name);
      const who = (ids: readonly string[]) => ids.map((id) => (id === client.userId ? 'you' : this.names.nameOf(id))).join(', ');
      const changes = [update.added.length ? `added ${who(update.added)}` : '', update.removed.length ? `removed ${who(update.removed)}` : ''].filter(Boolean).join('; ');
      entry?.lines.push({ from: 'notice', text: `${update.by === client.userId ? 'You' : this.names.nameOf(update.by)} ${changes || 'changed the group'}`, at: update.serverTs });
      model.membershipChanged(update);
      model.changed();
    });
    client.on('undecryptable', (u) => {
      model.chatFor(u.conversationId)?.lines.push({ from: 'notice', text: `A message from ${this.names.nameOf(u.from.userId)} could not be read (${u.reason})`, at: Date.now() });
      model.changed();
    });
    client.on('error', (error) => model.say(`error: ${error.message}`));
    await client.connect();
    const groups = await client.listGroups();
    model.loadChatList(await client.chatList(), new Map(groups.map((g) => [g.conversationId, g.name])));
    for (const group of groups) model.chatFor(group.conversationId, group.name);
    model.loadBlocks((await client.contacts.blocked()).map((block) => block.userId));
    this.markOpenChatRead();
    // Every way a chat opens (a key, /new, the first message) goes through the model.
    this.followOpenChat();
    model.onChange(() => this.followOpenChat());
  }

  /**
   * The composer's text changed: a draft in the open chat is `composing` there (the SDK throttles it), an
   * empty one or a slash command `paused`. Each keystroke calls it.
   */
  draftChanged(draft: string): void {
    const text = draft.trim();
    this.typingIn(text && !text.startsWith('/') ? this.model.current()?.conversationId : undefined);
  }

  private typingIn(conversationId: string | undefined): void {
    if (this.composingIn && this.composingIn !== conversationId) this.client.setTyping(this.composingIn, 'paused');
    if (conversationId) this.client.setTyping(conversationId, 'composing');
    this.composingIn = conversationId;
  }

  /**
   * Follows the open chat: another chat opened pauses the draft's typing in the old one and loads a group's
   * members once; then the SDK watches the presence of the open chat's peer(s), subscribed again only when they change.
   */
  private followOpenChat(): void {
    const open = this.model.current();
    if (this.model.selected !== this.openChat) {
      this.openChat = this.model.selected;
      if (this.composingIn && this.composingIn !== this.openChat) this.typingIn(undefined);
      if (open && 'groupId' in open.peer && !open.members) this.loadMembers(open.conversationId, open.peer.groupId);
    }
    const userIds = this.model.watchedUsers();
    if (userIds.join() === this.watched) return;
    this.watched = userIds.join();
    this.model.watching(userIds);
    this.client.subscribePresence(userIds).catch((error: Error) => {
      const unknown = error instanceof ParleyApiError && error.code === 'NOT_FOUND' && userIds.length === 1;
      this.model.say(unknown ? `${this.names.nameOf(userIds[0]!)} has no Parley account` : `presence: ${error.message}`);
    });
  }

  private loadMembers(conversationId: string, groupId: string): void {
    this.client.getGroup(groupId).then(
      (group) => this.model.membersLoaded(conversationId, group.members.map((member) => member.userId)),
      (error: Error) => this.model.say(`the group's members: ${error.message}`),
    );
  }

  /** A line from the composer: a slash command, or a message to the open chat. */
  submit(text: string): void {
    if (text.startsWith('/')) {
      void runSlashCommand(this, text).catch((error: Error) => this.model.say(commandError(text, error)));
      return;
    }
    const chat = this.model.current();
    if (!chat) return this.model.say('No chat is open: start one with /new <userId|phone> [name]');
    if (this.model.notice.length) this.model.say();
    const line = this.model.sending(chat.conversationId, text);
    const sending = 'userId' in chat.peer ? this.client.send(chat.peer.userId, text) : this.client.sendToGroup(chat.peer.groupId, text);
    sending.then(
      ({ msgId }) => this.model.sent(line, msgId),
      (error: Error) => {
        this.model.failed(line);
        this.model.say(`not sent: ${error.message}`);
      },
    );
  }

  move(by: number): void {
    if (this.model.move(by)) this.markOpenChatRead();
  }

  open(conversationId: string): void {
    if (this.model.select(conversationId)) this.markOpenChatRead();
  }

  private received(message: IncomingMessage): Promise<void> | void {
    const inOpenChat = this.model.received(message, describe);
    if (inOpenChat) this.markOpenChatRead();
    if (message.attachment) return this.save(message);
  }

  /** Downloads a received file into the downloads folder, never over another file, and says where it went. */
  private async save(message: IncomingMessage): Promise<void> {
    const attachment = message.attachment!;
    const entry = this.model.chatFor(message.conversationId);
    try {
      const saved = await this.client.downloadAttachment(attachment, await receivedFilePath(this.downloads, attachment));
      entry?.lines.push({ from: 'notice', text: `saved ${saved}`, at: Date.now() });
    } catch (error) {
      entry?.lines.push({ from: 'notice', text: `${attachment.fileName ?? 'the file'} could not be downloaded: ${(error as Error).message}`, at: Date.now() });
    }
    this.model.changed();
  }

  /** The peer sees blue ticks for what the open chat shows. */
  private markOpenChatRead(): void {
    const chat = this.model.current();
    if (!chat?.lastIncomingMsgId) return;
    const upTo = chat.lastIncomingMsgId;
    delete chat.lastIncomingMsgId;
    this.client.markRead(chat.conversationId, upTo).catch((error: Error) => this.model.say(`could not mark read: ${error.message}`));
  }
}

/** What went wrong with a slash command, as one line: with the SDK's code (EDIT_WINDOW_PASSED…) when it has one. */
export function commandError(text: string, error: Error): string {
  const code = (error as { code?: unknown }).code;
  return `${text.split(' ')[0]}: ${error.message}${typeof code === 'string' ? ` (${code})` : ''}`;
}

/** A message as one line: its text, or the file it carries. */
function describe(message: IncomingMessage): string {
  if (message.attachment) {
    const { fileName, kind, size } = message.attachment;
    return `📎 ${fileName ?? kind} (${Math.ceil(size / 1024)} KB)${message.text ? ` ${message.text}` : ''}`;
  }
  return message.text ?? `${message.data?.length ?? 0} bytes`;
}
