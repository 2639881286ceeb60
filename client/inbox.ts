/**
 * Receiving: every frame of the device's queue, in order. A message is dropped if its msgId was seen,
 * else decrypted (and its plaintext kept on the device until the app has had it), checked for a seq gap,
 * shown (the `message` event, whose listeners it awaits), recorded as seen and only then acknowledged
 * with DELIVERED. A message that cannot be decrypted is reported
 * (`undecryptable`) and acknowledged, never shown. Receipts are deduplicated by receiptId the same way.
 */
import type { PushFrame, QueuedFrame, ReceiptFrame } from '../lambdas/protocol/frames';
import { decodeContent, type MessageContent } from './content';
import type { DecryptedMessages } from './decrypted-messages';
import type { Emitter, IncomingMessage, ParleyEvents } from './events';
import type { Recipients } from './recipients';
import type { SeenMessages } from './seen-messages';
import type { SequenceNumbers } from './sequence-numbers';
import { DecryptFailure, type DeviceAddress, type SessionManager } from './session-manager';

class UnsupportedMessage extends Error {}

export interface InboxDeps {
  readonly self: DeviceAddress;
  readonly sessions: SessionManager;
  readonly recipients: Recipients;
  readonly seen: SeenMessages;
  readonly decrypted: DecryptedMessages;
  readonly sequence: SequenceNumbers;
  readonly events: Emitter<ParleyEvents>;
  /** Queues an id for the next DELIVERED. */
  readonly acknowledge: (id: string) => void;
  /** Tops the prekeys up. Counted afresh: a notice queued before the last upload may arrive after it. */
  readonly onPrekeysLow: () => void;
}

export class Inbox {
  constructor(private readonly deps: InboxDeps) {}

  async handle(frame: QueuedFrame): Promise<void> {
    switch (frame.type) {
      case 'PUSH':
        return this.message(frame);
      case 'RECEIPT':
        return this.receipt(frame);
      case 'PREKEYS_LOW':
        this.deps.onPrekeysLow();
        this.deps.acknowledge(frame.noticeId);
        return;
      case 'GROUP_UPDATE':
        // Groups are not in this SDK yet: acknowledged, so the queue does not hold it for 30 days.
        return this.deps.acknowledge(frame.changeId);
    }
  }

  private async message(push: PushFrame): Promise<void> {
    const { seen, decrypted, events } = this.deps;
    if (await seen.has(push.msgId)) return this.deps.acknowledge(push.msgId);
    const message = (await decrypted.get(push.msgId)) ?? (await this.decrypt(push));
    if (!message) return this.handled(push.msgId);
    await events.emit('message', message);
    await this.handled(push.msgId);
    await decrypted.delete(push.msgId);
  }

  /** Decrypts a message and keeps it until the app has had it; reports (and answers nothing for) one it cannot read. */
  private async decrypt(push: PushFrame): Promise<IncomingMessage | undefined> {
    const { sessions, events, self } = this.deps;
    let content: MessageContent;
    try {
      if (push.envelope.type === 'senderKey') throw new UnsupportedMessage('group messages (Sender Keys) are not supported by this SDK yet');
      content = decodeContent(await sessions.decrypt(push.from, { type: push.envelope.type, ciphertext: push.envelope.ciphertext }));
    } catch (error) {
      const reason = error instanceof DecryptFailure ? error.reason : error instanceof UnsupportedMessage ? 'unsupported' : 'bad-content';
      await events.emit('undecryptable', { msgId: push.msgId, conversationId: push.conversationId, from: push.from, reason, error: error as Error });
      return undefined;
    }
    const message: IncomingMessage = {
      msgId: push.msgId,
      conversationId: push.conversationId,
      from: push.from,
      outgoing: push.from.userId === self.userId,
      ...content,
      serverTs: push.serverTs,
      seq: push.seq,
    };
    await this.deps.decrypted.put(message);
    await this.deps.recipients.noteDevice(push.from);
    const gap = await this.deps.sequence.received(push.conversationId, push.from, push.seq);
    if (gap) await events.emit('gap', { conversationId: push.conversationId, from: push.from, ...gap });
    return message;
  }

  private async receipt(receipt: ReceiptFrame): Promise<void> {
    if (await this.deps.seen.has(receipt.receiptId)) return this.deps.acknowledge(receipt.receiptId);
    const { status, conversationId, msgIds, by, serverTs } = receipt;
    await this.deps.events.emit('receipt', { status, conversationId, msgIds, by, serverTs });
    return this.handled(receipt.receiptId);
  }

  private async handled(id: string): Promise<void> {
    await this.deps.seen.add(id);
    this.deps.acknowledge(id);
  }
}
