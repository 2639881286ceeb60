/**
 * A Parley device: the one object an app or bot holds. It registers an account or links to one, keeps
 * its keys and sessions in a {@link KeyValueStore}, stays connected, and sends and receives messages
 * end-to-end encrypted with the Signal protocol (libsignal). See client/README.md.
 */
import { randomBytes } from 'node:crypto';
import { PRIMARY_DEVICE_ID } from '../lambdas/accounts/constants';
import type { DeviceSummary, RegisteredDevice } from '../lambdas/protocol/accounts-api';
import type { DeviceCredentials } from '../lambdas/protocol/credentials';
import type { AckFrame, ReadAckFrame, RevokeAckFrame } from '../lambdas/protocol/frames';
import { directConversationId, groupConversationId, groupIdOfConversation, peerOf } from '../lambdas/send/conversations';
import type { BackoffOptions } from './backoff';
import { ChatList, type Chat } from './chat-list';
import { ChatListKeys } from './chat-list-keys';
import { Connection } from './connection';
import { Contacts, type PrivacySettings } from './contacts';
import { PresenceAndTyping } from './presence';
import { encodeContent, type MessageContent, type MessageRef } from './content';
import { MessageActionError } from './errors';
import { MessageActions, type EarlierText } from './message-actions';
import { MessageLog } from './message-log';
import { DecryptedMessages } from './decrypted-messages';
import { DeliveryAcknowledger } from './delivery-acknowledger';
import { DeliveryStates } from './delivery-states';
import { Emitter, type Listener, type ParleyEvents, type PresenceEvent } from './events';
import { Groups, type GroupSummary, type MyGroup } from './groups';
import { HttpClient } from './http-client';
import { Inbox } from './inbox';
import { HttpKeyDirectory, type KeyDirectory, type PrekeyCounts } from './key-directory';
import { createLocalDevice, loadLocalDevice, type LocalDevice } from './local-device';
import type { Attachment } from './media/attachment';
import { MediaTransfers, type AttachmentOptions, type TransferControls } from './media/media-transfers';
import { Outbox, type SentMessage } from './outbox';
import { Prekeys, type PrekeyPolicy } from './prekeys';
import { awaitProvisioning, parseLinkCode, Provisioning } from './provisioning';
import { Recipients } from './recipients';
import { SafetyNumbers, type SafetyNumber } from './safety-numbers';
import { SeenMessages } from './seen-messages';
import { SenderKeys } from './sender-keys';
import { SequenceNumbers } from './sequence-numbers';
import { SessionManager, type DeviceAddress } from './session-manager';
import type { KeyValueStore } from './store/key-value-store';
import { ProtocolStores } from './store/protocol-stores';

export interface ParleyEndpoints {
  /** The HTTP API, such as `https://abc.execute-api.eu-west-1.amazonaws.com` or `http://127.0.0.1:3000`. */
  readonly httpUrl: string;
  /** The WebSocket stage, such as `wss://xyz.execute-api.eu-west-1.amazonaws.com/prod` or `ws://127.0.0.1:3001/local`. */
  readonly webSocketUrl: string;
}

export interface ParleyClientOptions extends ParleyEndpoints {
  /** Where the device keeps its credentials, keys, sessions and bookkeeping: a MemoryStore, a FileStore or your own. */
  readonly store: KeyValueStore;
  /** Prekey pool size and rotation. @default 100 of each kind, signed prekey rotated weekly */
  readonly prekeys?: PrekeyPolicy;
  /** Reconnect schedule. @default 1 s doubling to 60 s, jittered */
  readonly backoff?: BackoffOptions;
  /** @default 5 minutes */
  readonly heartbeatIntervalMs?: number;
  /** @default 30 s */
  readonly requestTimeoutMs?: number;
  /** The Key Distribution Service client. @default HttpKeyDirectory over `httpUrl` */
  readonly keyDirectory?: (http: HttpClient) => KeyDirectory;
  /** How long a group message that came before its sender's key waits for it, then is reported `undecryptable`. @default 60 s */
  readonly senderKeyWaitMs?: number;
  /** How long handled frames wait to be acknowledged together in one DELIVERED. @default 250 ms */
  readonly deliveredWindowMs?: number;
  /**
   * How long group messages that came by SYNC wait, while connected, to be acknowledged with the next
   * SYNC or DELIVERED before a DELIVERED of their own; their senders' "delivered" tick waits as long. @default 30 s
   */
  readonly groupDeliveredWindowMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** How often a connected client removes read messages whose disappearing timer ran out. */
const EXPIRY_SWEEP_MS = 60_000;

const newDeviceSecret = () => randomBytes(32).toString('base64url');

/**
 * One device of a Parley account.
 *
 * @example
 * const client = await ParleyClient.open({ httpUrl, webSocketUrl, store: new FileStore('./alice-phone') });
 * client.on('message', (m) => console.log(m.from.userId, m.text));
 * await client.connect();
 * const { msgId } = await client.send(bobUserId, 'Hello Bob');
 */
export class ParleyClient {
  /** Asks the server to text a verification code to `phoneNumber` (needed by {@link ParleyClient.register}). */
  static requestVerificationCode(endpoints: Pick<ParleyEndpoints, 'httpUrl'>, phoneNumber: string): Promise<{ codeExpiresAt: number }> {
    return new HttpClient(endpoints.httpUrl).request('POST', '/v1/verification/code', { phoneNumber });
  }

  /** Registers a new account (device 1) with the code from the SMS, and publishes the device's keys. */
  static async register(options: ParleyClientOptions & { phoneNumber: string; code: string; deviceName?: string }): Promise<ParleyClient> {
    const deviceSecret = newDeviceSecret();
    const body = { phoneNumber: options.phoneNumber, code: options.code, deviceSecret, ...(options.deviceName ? { deviceName: options.deviceName } : {}) };
    const registered = await new HttpClient(options.httpUrl).request<RegisteredDevice>('POST', '/v1/accounts', body);
    return ParleyClient.start(options, await createLocalDevice(options.store, { ...registered, secret: deviceSecret }));
  }

  /**
   * Links this device to an account with a token from one of its devices ({@link ParleyClient.createLinkToken}).
   * Only the token's server part goes to the server; with the rest, the device that showed it provisions
   * this one (the `provisioned` event) once it is connected.
   */
  static async link(options: ParleyClientOptions & { linkToken: string; deviceName: string }): Promise<ParleyClient> {
    const deviceSecret = newDeviceSecret();
    const { linkToken, secret } = parseLinkCode(options.linkToken);
    const body = { linkToken, deviceSecret, deviceName: options.deviceName };
    const linked = await new HttpClient(options.httpUrl).request<RegisteredDevice>('POST', '/v1/devices/link', body);
    const device = await createLocalDevice(options.store, { ...linked, secret: deviceSecret });
    if (secret) await awaitProvisioning(options.store, secret);
    return ParleyClient.start(options, device);
  }

  /** Opens the device a store already holds (registered or linked before). */
  static async open(options: ParleyClientOptions): Promise<ParleyClient> {
    const device = await loadLocalDevice(options.store);
    if (!device) throw new Error('the store holds no device: register or link first');
    return ParleyClient.start(options, device);
  }

  private static async start(options: ParleyClientOptions, device: LocalDevice): Promise<ParleyClient> {
    const client = new ParleyClient(options, device);
    if (device.credentials.deviceId === PRIMARY_DEVICE_ID) await client.chatListKeys.createFirst();
    await client.prekeys.publish();
    return client;
  }

  readonly userId: string;
  readonly deviceId: number;
  private readonly events = new Emitter<ParleyEvents>();
  private readonly http: HttpClient;
  private readonly prekeys: Prekeys;
  private readonly connection: Connection;
  private readonly outbox: Outbox;
  private readonly seen: SeenMessages;
  private readonly acknowledger: DeliveryAcknowledger;
  private readonly inbox: Inbox;
  private readonly groups: Groups;
  private readonly chatListKeys: ChatListKeys;
  private readonly chats: ChatList;
  private readonly provisioning: Provisioning;
  private readonly media: MediaTransfers;
  private readonly presence: PresenceAndTyping;
  /** Contact discovery, the contact list, privacy settings and blocks. */
  readonly contacts: Contacts;
  private readonly safety: SafetyNumbers;
  private readonly actions: MessageActions;
  private readonly now: () => number;
  private expirySweep: NodeJS.Timeout | undefined;

  private constructor(options: ParleyClientOptions, device: LocalDevice) {
    const { store } = options;
    const now = (this.now = options.now ?? Date.now);
    const actions = (this.actions = new MessageActions(new MessageLog(store), now, (groupId, userId) => this.groups.isAdmin(groupId, userId)));
    const self: DeviceAddress = { userId: device.credentials.userId, deviceId: device.credentials.deviceId };
    this.userId = self.userId;
    this.deviceId = self.deviceId;
    this.http = new HttpClient(options.httpUrl, device.credentials);
    const directory = options.keyDirectory?.(this.http) ?? new HttpKeyDirectory(this.http);
    const stores = new ProtocolStores(store, device.identity, (address) => {
      const changed = { userId: address.name(), deviceId: address.deviceId() };
      void this.safety
        .identityChanged(changed)
        .then((wasVerified) => this.events.emit('identityChanged', { device: changed, ...(wasVerified ? { wasVerified } : {}) }))
        .catch((error: Error) => this.events.emit('error', error));
    });
    const sessions = new SessionManager(store, stores, self);
    const recipients = new Recipients(store, sessions, directory, self);
    this.safety = new SafetyNumbers({
      store,
      self,
      ownIdentityKey: device.identity.identityKeyPair.publicKey,
      devicesOf: (userId) => recipients.devicesOfUsers([userId]),
      identityKeyOf: (address) => sessions.identityKeyOf(address),
    });
    const sequence = new SequenceNumbers(store);
    const senderKeys = new SenderKeys(store, stores.senderKeys, self);
    this.seen = new SeenMessages(store, now);
    this.prekeys = new Prekeys(store, stores, device, directory, now, options.prekeys);
    this.chatListKeys = new ChatListKeys(store);
    const chats = (this.chats = new ChatList(this.chatListKeys, self.userId, this.http));
    this.provisioning = new Provisioning({
      self,
      store,
      chatListKeys: this.chatListKeys,
      ownIdentityKey: device.identity.identityKeyPair.publicKey.serialize(),
      identityKeyOf: (address) => sessions.identityKeyOf(address),
      sendToOwnDevices: async (content) => void (await this.outbox.send(self.userId, encodeContent(content), { silent: true })),
      events: this.events,
      now,
    });

    const acknowledger = (this.acknowledger = new DeliveryAcknowledger(
      async (cursors, previews, groups) => {
        await this.connection.request(
          { action: 'DELIVERED', ...(cursors.length ? { cursors } : {}), ...(previews.length ? { previews } : {}), ...(groups.length ? { groups } : {}) },
          true,
        );
      },
      options.deliveredWindowMs,
      undefined,
      (conversationId) => this.inbox.heldFrom(conversationId),
      options.groupDeliveredWindowMs,
    ));
    const deliveryStates = new DeliveryStates(store);
    const inbox = (this.inbox = new Inbox({
      self,
      sessions,
      recipients,
      seen: this.seen,
      decrypted: new DecryptedMessages(store),
      sequence,
      events: this.events,
      acknowledge: (cursor, preview) => acknowledger.add(cursor, preview),
      acknowledgeGroup: (conversationId, cursor, preview) => acknowledger.addGroup(conversationId, cursor, preview),
      deliveryStateSeen: (serverTs) => deliveryStates.seen(serverTs),
      sealPreview: (message) => chats.seal({ ...message, from: message.from.userId }),
      provisioning: this.provisioning,
      onPrekeysLow: () => void this.replenishPrekeys(),
      senderKeys,
      groupUpdated: (frame) => this.groups.updated(frame),
      applyContent: (message) =>
        actions.apply({ author: message.from.userId, msgId: message.msgId, conversationId: message.conversationId, serverTs: message.serverTs, content: message, own: message.outgoing }),
      ...(options.senderKeyWaitMs !== undefined ? { senderKeyWaitMs: options.senderKeyWaitMs } : {}),
    }));
    this.connection = new Connection({
      url: options.webSocketUrl,
      credentials: device.credentials,
      onQueued: (frame) => inbox.handle(frame),
      receiptsAfter: () => deliveryStates.seenUpTo(),
      groupAcknowledgements: { take: () => acknowledger.takeGroupCursors(), restore: (cursors) => acknowledger.restore(cursors) },
      onStatus: (status) => {
        // Group messages handled while SYNCing are acknowledged with the next SYNC (or within the group window).
        acknowledger.setSyncing(status.state === 'syncing');
        void this.events.emit('connection', status);
        // A subscription lives as long as its connection: the new one watches what the old one did.
        if (status.state === 'online') void this.presence.resubscribe().catch((error: Error) => this.events.emit('error', error));
      },
      onDisconnected: () => {
        acknowledger.clear();
        inbox.releaseHeld();
      },
      onError: (error) => void this.events.emit('error', error),
      onEphemeral: (frame) => this.presence.received(frame),
      ...(options.backoff ? { backoff: options.backoff } : {}),
      ...(options.heartbeatIntervalMs ? { heartbeatIntervalMs: options.heartbeatIntervalMs } : {}),
      ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    });
    this.outbox = new Outbox({
      self,
      recipients,
      sessions,
      sequence,
      request: (frame) => this.connection.request<AckFrame>(frame),
      onSent: (receipt) => this.events.emit('receipt', receipt),
    });
    this.groups = new Groups({ self, http: this.http, store, recipients, outbox: this.outbox, senderKeys, now });
    this.media = new MediaTransfers(this.http, store);
    this.presence = new PresenceAndTyping(this.connection, this.events, now);
    this.contacts = new Contacts(this.http);
  }

  /** This device's address: its account's userId and its deviceId. */
  get address(): DeviceAddress {
    return { userId: this.userId, deviceId: this.deviceId };
  }

  on<K extends keyof ParleyEvents>(name: K, listener: Listener<ParleyEvents[K]>): () => void {
    return this.events.on(name, listener);
  }

  off<K extends keyof ParleyEvents>(name: K, listener: Listener<ParleyEvents[K]>): void {
    this.events.off(name, listener);
  }

  /**
   * Connects, fetches what was queued for this device while it was away, and resolves once online.
   * Later drops reconnect by themselves. Tops up the prekeys in the background.
   */
  async connect(): Promise<void> {
    await this.connection.start();
    void this.replenishPrekeys();
    void this.provisioning.resume().catch((error: Error) => this.events.emit('error', error));
    void this.seen.prune().catch((error: Error) => this.events.emit('error', error));
    this.expirySweep ??= setInterval(() => void this.expireMessages().catch((error: Error) => this.events.emit('error', error)), EXPIRY_SWEEP_MS).unref();
  }

  /** Sends a text or bytes to a user (all of its devices, and this account's other devices); resolves at the server's ACK. */
  send(to: string, message: string | Uint8Array): Promise<SentMessage> {
    return this.sendContent(this.conversationWith(to), messageContent(message));
  }

  /** Replies to a message of a chat (`author`: its sender's userId), quoting the start of it. */
  async reply(target: MessageRef, text: string): Promise<SentMessage> {
    const quoted = await this.actions.target(target);
    return this.sendContent(quoted.conversationId, { text, replyTo: { ...target, excerpt: quoted.excerpt }, sentAt: this.now() });
  }

  /** Reacts to a message with an emoji, replacing this user's previous reaction to it; `null` removes it. */
  async react(target: MessageRef, emoji: string | null): Promise<SentMessage> {
    const content = { reaction: { ...target, emoji }, sentAt: this.now() };
    return this.sendContent(await this.actions.check(this.userId, content), content);
  }

  /** Replaces the text of this user's own message, within 15 minutes of sending it (MessageActionError otherwise). */
  async edit(target: MessageRef, text: string): Promise<SentMessage> {
    const content = { edit: { msgId: target.msgId, text }, sentAt: this.now() };
    if (target.author !== this.userId) throw new MessageActionError('NOT_OWN_MESSAGE', 'Only its author may edit a message');
    return this.sendContent(await this.actions.check(this.userId, content), content);
  }

  /**
   * Deletes this user's own message for everyone, within 48 hours, in a 1:1 chat or a group: the server
   * drops its copies still queued (`dropped`: see REVOKE_ACK in docs/protocol.md), then every device that
   * has it gets the encrypted delete.
   */
  async deleteForEveryone(target: MessageRef): Promise<SentMessage & { dropped: number }> {
    const content = { deleteForEveryone: { msgId: target.msgId }, sentAt: this.now() };
    if (target.author !== this.userId) throw new MessageActionError('NOT_OWN_MESSAGE', 'Only its author may delete a message for everyone');
    const conversationId = await this.actions.check(this.userId, content);
    const { dropped } = await this.connection.request<RevokeAckFrame>({ action: 'REVOKE', msgId: target.msgId });
    return { ...(await this.sendContent(conversationId, content)), dropped };
  }

  /**
   * Sets a chat's disappearing timer (a userId for a 1:1 chat, or a conversationId): 0 (off), 24 hours,
   * 7 days or 90 days, in seconds. Messages sent from then on go this long after they are read, and wait
   * on the server no longer than this.
   */
  async setDisappearing(conversation: string, seconds: number): Promise<SentMessage> {
    const conversationId = conversation.includes(':') ? conversation : this.conversationWith(conversation);
    const timer = await this.actions.checkTimer(this.userId, conversationId, seconds);
    return this.sendContent(conversationId, { disappearing: { seconds: timer }, sentAt: this.now() });
  }

  /**
   * The texts a message had before its edits, oldest first (`[]` if never edited), as this device received
   * them: kept on the device only, never on the server. MessageActionError UNKNOWN_MESSAGE if this device
   * has no such message.
   */
  editHistory(target: MessageRef): Promise<readonly EarlierText[]> {
    return this.actions.editHistory(target);
  }

  /** Removes the read messages whose disappearing timer ran out (also every minute while connected); emits `expired`. */
  async expireMessages(): Promise<void> {
    for (const [conversationId, messages] of await this.actions.expire()) await this.events.emit('expired', { conversationId, messages });
  }

  /**
   * Sends a content to a chat, with the chat's disappearing timer on a message; logs it as this device's
   * own. A message (not an action) also becomes the sender's chat-list preview.
   */
  private async sendContent(conversationId: string, content: MessageContent): Promise<SentMessage> {
    const isAction = content.reaction ?? content.edit ?? content.deleteForEveryone ?? content.disappearing;
    const timer = isAction ? 0 : await this.actions.timerOf(conversationId);
    const timed: MessageContent = timer ? { ...content, expiresInSeconds: timer } : content;
    const groupId = groupIdOfConversation(conversationId);
    const delivery = { ...(isAction ? { control: true } : {}), ...(timer ? { expiresInSeconds: timer } : {}) };
    const sent = groupId
      ? await this.groups.send(groupId, encodeContent(timed), delivery)
      : await this.outbox.send(peerOf(this, conversationId), encodeContent(timed), {
          ...(isAction ? {} : { preview: (message) => this.chats.seal({ ...message, ...timed, from: this.userId }) }),
          ...delivery,
        });
    await this.actions.apply({ author: this.userId, msgId: sent.msgId, conversationId, serverTs: sent.serverTs, content: timed, own: true });
    return sent;
  }

  /** Creates a group with this user as its admin; every member's devices get a `groupUpdate`. */
  createGroup(name: string, memberUserIds: readonly string[]): Promise<GroupSummary> {
    return this.groups.create(name, memberUserIds);
  }

  /** Adds members (admins only); they get what is sent from now on, nothing earlier. */
  addMembers(groupId: string, userIds: readonly string[]): Promise<GroupSummary> {
    return this.groups.change(groupId, { add: [...userIds] });
  }

  /** Removes members (admins only); this device's Sender Key is rotated before its next group message. */
  removeMembers(groupId: string, userIds: readonly string[]): Promise<GroupSummary> {
    return this.groups.change(groupId, { remove: [...userIds] });
  }

  /** Leaves a group: this user gets nothing more of it. */
  async leaveGroup(groupId: string): Promise<void> {
    await this.groups.change(groupId, { remove: [this.userId] });
  }

  /** Makes members admins (admins only). */
  makeAdmin(groupId: string, userIds: readonly string[]): Promise<GroupSummary> {
    return this.groups.change(groupId, { makeAdmin: [...userIds] });
  }

  /** This user's groups. */
  listGroups(): Promise<MyGroup[]> {
    return this.groups.list();
  }

  /** A group and its members, as the server has it now (to its members only: NOT_FOUND for anyone else). */
  getGroup(groupId: string): Promise<GroupSummary> {
    return this.groups.get(groupId);
  }

  /**
   * Sends a text or bytes to a group, encrypted once with this device's Sender Key (given first to the
   * member devices that lack it); resolves at the server's ACK. Members order the group by `serverTs`.
   */
  sendToGroup(groupId: string, message: string | Uint8Array): Promise<SentMessage> {
    return this.sendContent(groupConversationId(groupId), messageContent(message));
  }

  /**
   * Sends a file to a user, or to a group with `{ groupId }`: encrypts it on this device with a fresh key,
   * uploads the blob straight to S3 (once, whatever the number of recipients), then sends a message that
   * carries the key and where the blob is. `caption` travels as the message's text.
   */
  async sendFile(to: string | { groupId: string }, path: string, options: AttachmentOptions & { caption?: string } = {}): Promise<SentMessage & { attachment: Attachment }> {
    const attachment = await this.media.upload(path, options);
    return { ...(await this.sendAttachment(to, attachment, options.caption)), attachment };
  }

  /**
   * Sends an attachment this device has (received or sent) again, to a user or a group: the same blob, key
   * and digest, so nothing is uploaded. Throws when the server no longer keeps the blob long enough to be
   * forwarded (send the file again instead).
   */
  async forwardAttachment(to: string | { groupId: string }, attachment: Attachment, caption?: string): Promise<SentMessage> {
    if (!(await this.media.stillStored(attachment))) throw new Error('the attachment’s blob is gone or about to expire: send the file again');
    return this.sendAttachment(to, attachment, caption);
  }

  /**
   * Downloads a received attachment into the file `destination`, verifying its digest and MAC before it
   * decrypts a byte; rejects (leaving no file) when the blob was tampered with or cut short, or on cancel.
   */
  downloadAttachment(attachment: Attachment, destination: string, controls: TransferControls = {}): Promise<string> {
    return this.media.download(attachment, destination, controls);
  }

  private sendAttachment(to: string | { groupId: string }, attachment: Attachment, caption: string | undefined): Promise<SentMessage> {
    const content = encodeContent({ attachment, ...(caption !== undefined ? { text: caption } : {}), sentAt: Date.now() });
    return typeof to === 'string' ? this.outbox.send(to, content) : this.groups.send(to.groupId, content);
  }

  /** Marks a conversation read up to a message: the peer sees blue ticks, this account's other devices the read state. */
  async markRead(conversationId: string, upToMsgId: string): Promise<void> {
    await this.connection.request<ReadAckFrame>({ action: 'READ', conversationId, upToMsgId });
    await this.actions.read(conversationId, upToMsgId);
  }

  /** Which of these phone numbers (E.164) have accounts, with their userIds; see `contacts` for the rest. */
  lookup(phoneNumbers: readonly string[]): Promise<{ phoneNumber: string; userId: string }[]> {
    return this.contacts.lookup(phoneNumbers);
  }

  /**
   * Watches these users' presence (those whose chats are open; up to 64), replacing what was watched:
   * `presence` events follow each change, also after reconnects. Answers their presence now.
   */
  subscribePresence(userIds: readonly string[]): Promise<PresenceEvent[]> {
    return this.presence.subscribe(userIds);
  }

  /** A user's presence once, as their settings let this user see it. */
  getPresence(userId: string): Promise<PresenceEvent> {
    return this.contacts.presence(userId);
  }

  /**
   * Tells a conversation (a userId for a 1:1 chat, or a conversationId) that this user types or stopped.
   * Throttled: call it on every keystroke; a `composing` goes out at most every 2.5 s. Best effort.
   */
  setTyping(conversation: string, state: 'composing' | 'paused' = 'composing'): boolean {
    const conversationId = conversation.includes(':') ? conversation : this.conversationWith(conversation);
    return this.presence.setTyping(conversationId, state);
  }

  privacy(): Promise<PrivacySettings> {
    return this.contacts.privacy();
  }

  setPrivacy(change: Partial<PrivacySettings>): Promise<PrivacySettings> {
    return this.contacts.setPrivacy(change);
  }

  /** Blocks a user: their messages never reach this account, and they see none of its presence or typing. */
  block(userId: string): Promise<void> {
    return this.contacts.block(userId);
  }

  unblock(userId: string): Promise<void> {
    return this.contacts.unblock(userId);
  }

  /** The id of the 1:1 conversation with a user. */
  conversationWith(userId: string): string {
    return directConversationId(this.userId, userId);
  }

  /**
   * A one-use token (5 minutes) with which a new device links to this account: show it as a QR code. It
   * holds a secret of this device's that the server never sees, with which this device provisions the new one.
   */
  async createLinkToken(): Promise<{ linkToken: string; expiresAt: number }> {
    const issued = await this.http.request<{ linkToken: string; expiresAt: number }>('POST', '/v1/devices/link-token');
    return { linkToken: await this.provisioning.linkCode(issued.linkToken), expiresAt: issued.expiresAt };
  }

  async listDevices(): Promise<DeviceSummary[]> {
    return (await this.http.request<{ devices: DeviceSummary[] }>('GET', '/v1/devices')).devices;
  }

  removeDevice(deviceId: number): Promise<void> {
    return this.http.request('DELETE', `/v1/devices/${deviceId}`);
  }

  async listConversations(): Promise<{ conversationId: string; lastActivityAt: number; lastMsgId: string; unreadCount: number }[]> {
    return (await this.http.request<{ conversations: never[] }>('GET', '/v1/conversations')).conversations;
  }

  /** The chat list, newest activity first, with the previews this device can open (all of them, once it is provisioned). */
  chatList(): Promise<Chat[]> {
    return this.chats.read();
  }

  /**
   * The safety number with each of a contact's devices (libsignal's fingerprint: 60 digits and a scannable
   * form), the same on both devices; compare them to know no one is in between, then {@link markVerified}.
   *
   * @example
   * for (const n of await alice.safetyNumbers(bobUserId)) console.log(n.device.deviceId, n.digits, n.verified);
   */
  safetyNumbers(userId: string): Promise<SafetyNumber[]> {
    return this.safety.of(userId);
  }

  /** Marks a contact's devices verified as they are now; a later identity change comes with `wasVerified`. Answers how many devices. */
  markVerified(userId: string): Promise<number> {
    return this.safety.markVerified(userId);
  }

  /** True when a scanned QR code (the other device's scannable safety number) matches this device's with `device`. */
  matchesScannedSafetyNumber(device: DeviceAddress, scanned: Uint8Array): Promise<boolean> {
    return this.safety.matchesScanned(device, scanned);
  }

  /** Registers this device's APNs or FCM token, so a silent push wakes it while it is offline. Call at every start. */
  registerPushToken(platform: 'apns' | 'apnsSandbox' | 'fcm', token: string): Promise<void> {
    return this.http.request('PUT', '/v1/devices/self/push', { platform, token });
  }

  unregisterPushToken(): Promise<void> {
    return this.http.request('DELETE', '/v1/devices/self/push');
  }

  /** Uploads one-time prekeys up to the pool size and rotates an old signed prekey; failures become `error` events. */
  async replenishPrekeys(counts?: PrekeyCounts): Promise<void> {
    await this.prekeys.replenish(counts).catch((error: Error) => this.events.emit('error', error));
  }

  /** Disconnects for good (after acknowledging what was handled); pending sends reject. */
  close(): void {
    clearInterval(this.expirySweep);
    this.acknowledger.flush();
    this.inbox.releaseHeld();
    this.presence.close();
    this.connection.close();
  }
}

function messageContent(message: string | Uint8Array): MessageContent {
  return typeof message === 'string' ? { text: message, sentAt: Date.now() } : { data: message, sentAt: Date.now() };
}

export type { Chat, DeviceCredentials, GroupSummary, MyGroup, SafetyNumber, SentMessage };
