/**
 * Receiving: every frame of the device's queue, in order. A message is dropped if it was seen (by its
 * sender and msgId: another sender's message with the same msgId is another message),
 * else decrypted (and its plaintext kept on the device until the app has had it), checked for a seq gap,
 * shown (the `message` event, whose listeners it awaits), recorded as seen and only then acknowledged
 * with DELIVERED. A message that cannot be decrypted is reported
 * (`undecryptable`) and acknowledged, never shown. Receipts and group updates are deduplicated the same way.
 *
 * A 1:1 message that carries a group member's Sender Key is processed, not shown. A group message that
 * comes before its sender's key (the two travel different paths) is held, unacknowledged, while the
 * frames after it go on; it is decrypted when the key comes, or reported `no-sender-key` after
 * `senderKeyWaitMs`. A held message the connection drops meanwhile comes again with the next SYNC.
 *
 * A shown message is acknowledged with its chat-list preview for this user's row, except one this account
 * sent 1:1, whose sending device wrote that preview with its SEND. Provisioning content is taken only from
 * this account's own devices, processed and never shown.
 */
import type { GroupUpdateFrame, PushFrame, QueuedFrame, ReceiptFrame } from '../lambdas/protocol/frames';
import { decodeContent, type MessageContent, type SenderKeyDistribution } from './content';
import type { DecryptedMessages } from './decrypted-messages';
import { kindOf } from './message-actions';
import type { DeliveredPreview } from './delivery-acknowledger';
import type { Emitter, GroupUpdate, IncomingMessage, ParleyEvents, UndecryptableMessage } from './events';
import type { Recipients } from './recipients';
import { receivedMessageId, type SeenMessages } from './seen-messages';
import { deviceKey, MissingSenderKey, type SenderKeys } from './sender-keys';
import type { SequenceNumbers } from './sequence-numbers';
import { DecryptFailure, type DeviceAddress, type SessionManager } from './session-manager';

/** How long a group message waits for its sender's key before it is reported. */
export const DEFAULT_SENDER_KEY_WAIT_MS = 60_000;

const GROUP_PREFIX = 'group:';

/** Answered by decrypt() for a group message held until its sender's key comes. */
const HELD = Symbol('held');

export interface InboxDeps {
  readonly self: DeviceAddress;
  readonly sessions: SessionManager;
  readonly recipients: Recipients;
  readonly seen: SeenMessages;
  readonly decrypted: DecryptedMessages;
  readonly sequence: SequenceNumbers;
  readonly events: Emitter<ParleyEvents>;
  /** Queues a frame's cursor, with its message's chat-list preview if it has one, for the next DELIVERED. */
  readonly acknowledge: (cursor: string, preview?: DeliveredPreview) => void;
  /** Queues a group message, by its group and cursor, for the next DELIVERED. */
  readonly acknowledgeGroup: (conversationId: string, cursor: string, preview?: DeliveredPreview) => void;
  /** A conversation's delivery state (a RECEIPT with no cursor) was handled. @default nothing is kept */
  readonly deliveryStateSeen?: (serverTs: number) => Promise<void>;
  /** Seals a shown message's chat-list preview (base64); none before this device holds a chat-list key. @default no previews */
  readonly sealPreview?: (message: IncomingMessage) => Promise<string | undefined>;
  /** Takes provisioning content from another device of this account. @default it is dropped */
  readonly provisioning?: { received(from: DeviceAddress, content: MessageContent): Promise<void> };
  /** Applies a message or an action on one to the device's message log; answers why an action was refused. @default nothing is applied */
  readonly applyContent?: (message: IncomingMessage) => Promise<string | undefined>;
  /** Tops the prekeys up. Counted afresh: a notice queued before the last upload may arrive after it. */
  readonly onPrekeysLow: () => void;
  readonly senderKeys: SenderKeys;
  /** Applies a GROUP_UPDATE to what the device knows of the group; answers the app's event. */
  readonly groupUpdated: (frame: GroupUpdateFrame) => Promise<GroupUpdate>;
  /** @default {@link DEFAULT_SENDER_KEY_WAIT_MS} */
  readonly senderKeyWaitMs?: number;
}

interface HeldMessage {
  readonly push: PushFrame;
  /** The sender device and distribution whose key it waits for. */
  readonly waitsFor: string;
  readonly timer: NodeJS.Timeout;
}

export class Inbox {
  /** Group messages waiting for their sender's key, by receivedMessageId. */
  private readonly held = new Map<string, HeldMessage>();

  constructor(private readonly deps: InboxDeps) {}

  /** The cursor of the group's oldest message held for its sender's key: nothing at or past it is acknowledged yet. */
  heldFrom(conversationId: string): string | undefined {
    let oldest: string | undefined;
    for (const { push } of this.held.values()) {
      if (push.conversationId === conversationId && (oldest === undefined || push.cursor < oldest)) oldest = push.cursor;
    }
    return oldest;
  }

  /** Forgets held messages (the connection dropped or closed): the server hands them out again. */
  releaseHeld(): void {
    for (const { timer } of this.held.values()) clearTimeout(timer);
    this.held.clear();
  }

  async handle(frame: QueuedFrame): Promise<void> {
    switch (frame.type) {
      case 'PUSH':
        return this.message(frame);
      case 'RECEIPT':
        return this.receipt(frame);
      case 'PREKEYS_LOW':
        this.deps.onPrekeysLow();
        this.deps.acknowledge(frame.cursor);
        return;
      case 'GROUP_UPDATE':
        return this.groupUpdate(frame);
    }
  }

  private async groupUpdate(frame: GroupUpdateFrame): Promise<void> {
    if (await this.deps.seen.has(frame.changeId)) return this.deps.acknowledge(frame.cursor);
    await this.deps.events.emit('groupUpdate', await this.deps.groupUpdated(frame));
    return this.handled(frame.changeId, frame.cursor);
  }

  private async message(push: PushFrame): Promise<void> {
    const { seen, decrypted, events } = this.deps;
    const id = receivedMessageId(push.from, push.msgId);
    if (await seen.has(id)) return this.acknowledgePush(push);
    const message = (await decrypted.get(id)) ?? (await this.decrypt(push));
    if (message === HELD) return;
    if (!message) return this.handledPush(id, push);
    const refused = await this.deps.applyContent?.(message);
    if (refused !== undefined) {
      await this.undecryptable(push, 'refused-action', new Error(refused));
      await this.handledPush(id, push);
      return decrypted.delete(id);
    }
    await events.emit('message', message);
    await this.handledPush(id, push, await this.previewOf(message));
    await decrypted.delete(id);
  }

  /** A group message is acknowledged in its group by cursor (it is stored once per group), any other by its queue cursor. */
  private acknowledgePush(push: PushFrame, preview?: DeliveredPreview): void {
    if (push.envelope.type === 'senderKey') this.deps.acknowledgeGroup(push.conversationId, push.cursor, preview);
    else this.deps.acknowledge(push.cursor, preview);
  }

  private async handledPush(seenId: string, push: PushFrame, preview?: DeliveredPreview): Promise<void> {
    await this.deps.seen.add(seenId);
    this.acknowledgePush(push, preview);
  }

  private async previewOf(message: IncomingMessage): Promise<DeliveredPreview | undefined> {
    // Only a message is the chat's newest line: an action on one (a reaction, an edit, a delete) is not.
    if ((message.outgoing && message.groupId === undefined) || message.kind !== 'message') return undefined;
    const ciphertext = await this.deps.sealPreview?.(message);
    return ciphertext ? { conversationId: message.conversationId, serverTs: message.serverTs, ciphertext } : undefined;
  }

  /**
   * Decrypts a message and keeps it until the app has had it; reports (and answers nothing for) one it
   * cannot read, or a Sender Key it processed; holds a group message whose sender's key has not come.
   */
  private async decrypt(push: PushFrame): Promise<IncomingMessage | undefined | typeof HELD> {
    const { sessions, senderKeys, events, self } = this.deps;
    const isGroup = push.envelope.type === 'senderKey';
    let content: MessageContent;
    try {
      if (isGroup !== push.conversationId.startsWith(GROUP_PREFIX)) throw new Error('a group message outside a group conversation, or the reverse');
      const plaintext = isGroup
        ? await senderKeys.decrypt(push.from, Buffer.from(push.envelope.ciphertext, 'base64'))
        : await sessions.decrypt(push.from, { type: push.envelope.type as 'prekey' | 'message', ciphertext: push.envelope.ciphertext });
      content = decodeContent(plaintext);
      if (content.senderKey) {
        if (isGroup) throw new Error('a Sender Key in a group message');
        await senderKeys.process(push.from, content.senderKey.distributionId, content.senderKey.skdm);
      }
      if (isProvisioning(content) && (isGroup || push.from.userId !== self.userId)) throw new Error('provisioning content from another account');
    } catch (error) {
      if (error instanceof MissingSenderKey) return this.hold(push, error);
      const reason = error instanceof DecryptFailure ? error.reason : 'bad-content';
      await this.undecryptable(push, reason, error as Error);
      return undefined;
    }
    await this.deps.recipients.noteDevice(push.from);
    const gap = await this.deps.sequence.received(push.conversationId, push.from, push.seq);
    if (gap) await events.emit('gap', { conversationId: push.conversationId, from: push.from, ...gap });
    if (content.senderKey) {
      await this.released(push.from, content.senderKey);
      return undefined;
    }
    if (isProvisioning(content)) {
      await this.deps.provisioning?.received(push.from, content).catch((error: Error) => this.undecryptable(push, 'bad-content', error));
      return undefined;
    }
    const message: IncomingMessage = {
      msgId: push.msgId,
      conversationId: push.conversationId,
      ...(isGroup ? { groupId: push.conversationId.slice(GROUP_PREFIX.length) } : {}),
      from: push.from,
      outgoing: push.from.userId === self.userId,
      kind: kindOf(content),
      ...content,
      serverTs: push.serverTs,
      seq: push.seq,
    };
    await this.deps.decrypted.put(message);
    return message;
  }

  private undecryptable(push: PushFrame, reason: UndecryptableMessage['reason'], error: Error): Promise<void> {
    return this.deps.events.emit('undecryptable', { msgId: push.msgId, conversationId: push.conversationId, from: push.from, reason, error });
  }

  private hold(push: PushFrame, missing: MissingSenderKey): typeof HELD {
    const id = receivedMessageId(push.from, push.msgId);
    if (this.held.has(id)) return HELD;
    const timer = setTimeout(() => {
      if (!this.held.delete(id)) return;
      void this.undecryptable(push, 'no-sender-key', missing).then(() => this.handledPush(id, push));
    }, this.deps.senderKeyWaitMs ?? DEFAULT_SENDER_KEY_WAIT_MS);
    timer.unref();
    this.held.set(id, { push, waitsFor: `${deviceKey(missing.from)} ${missing.distributionId}`, timer });
    return HELD;
  }

  /** A sender's key came: the group messages that waited for it are handled now, in the order they came. */
  private async released(from: DeviceAddress, key: SenderKeyDistribution): Promise<void> {
    const waitsFor = `${deviceKey(from)} ${key.distributionId}`;
    for (const [id, held] of [...this.held]) {
      if (held.waitsFor !== waitsFor) continue;
      clearTimeout(held.timer);
      this.held.delete(id);
      await this.message(held.push);
    }
  }

  /**
   * A queued receipt is acknowledged; a delivery state (no cursor) is not queued, so it is only noted as
   * seen, and its time kept for the next SYNC.
   */
  private async receipt(receipt: ReceiptFrame): Promise<void> {
    const { receiptId, cursor, status, conversationId, msgIds, by, everyone, upToServerTs, serverTs } = receipt;
    if (!(await this.deps.seen.has(receiptId))) {
      await this.deps.events.emit('receipt', {
        status,
        conversationId,
        msgIds,
        by,
        ...(everyone ? { everyone } : {}),
        ...(upToServerTs !== undefined ? { upToServerTs } : {}),
        serverTs,
      });
      await this.deps.seen.add(receiptId);
    }
    if (cursor) this.deps.acknowledge(cursor);
    else await this.deps.deliveryStateSeen?.(serverTs);
  }

  /** Records the frame as seen (a message by its receivedMessageId) and acknowledges it by its cursor, with the message's preview. */
  private async handled(seenId: string, cursor: string, preview?: DeliveredPreview): Promise<void> {
    await this.deps.seen.add(seenId);
    this.deps.acknowledge(cursor, preview);
  }
}

const isProvisioning = (content: MessageContent) => content.provisioning !== undefined || content.provisioningRequest !== undefined;
