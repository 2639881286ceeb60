/**
 * Sending: one message at a time per conversation, each after the previous ACK, as the protocol asks.
 * A message is encrypted once per recipient device and once per other device of this account, sent as
 * one SEND, and resent: after a dropped connection (the same frame: the server answers a retried msgId
 * with the same ACK), after MISMATCHED_DEVICES (re-encrypted, once the device lists are corrected) and
 * after STALE_DEVICES (re-encrypted, once the sessions with the devices' new holders are made).
 */
import { randomUUID } from 'node:crypto';
import type { AckFrame, GroupSendFrame, SendFrame } from '../lambdas/protocol/frames';
import { directConversationId } from '../lambdas/send/conversations';
import { ConnectionLostError, ParleyApiError } from './errors';
import type { Receipt } from './events';
import { KeyedQueue } from './keyed-queue';
import { NoKeysError, type DeviceMismatch, type Recipients } from './recipients';
import type { SequenceNumbers } from './sequence-numbers';
import type { DeviceAddress, SessionManager } from './session-manager';

export interface SentMessage {
  readonly msgId: string;
  readonly conversationId: string;
  readonly seq: number;
  /** When the server accepted it: the message's place in the conversation. */
  readonly serverTs: number;
}

export interface OutboxDeps {
  readonly self: DeviceAddress;
  readonly recipients: Recipients;
  readonly sessions: SessionManager;
  readonly sequence: SequenceNumbers;
  /** Sends a frame over the connection once it is online and resolves with its answer. */
  readonly request: (frame: Omit<SendFrame, 'requestId'> | Omit<GroupSendFrame, 'requestId'>) => Promise<AckFrame>;
  readonly onSent: (receipt: Receipt) => Promise<void>;
  /** SENDs refused with MISMATCHED_DEVICES or STALE_DEVICES (or GROUP_SENDs with STALE_GROUP) before giving up. @default 3 */
  readonly maxMismatches?: number;
}

/** What a SEND carries beside its envelopes. */
export interface SendOptions {
  /** Seals the sender's own chat-list preview of the message (base64), once its msgId is known. */
  readonly preview?: (message: { msgId: string; conversationId: string }) => Promise<string | undefined>;
  /** No `sent` receipt: a message the SDK sends for itself (provisioning), which the app never saw. */
  readonly silent?: boolean;
  /** The chat's disappearing timer: the server lets the queued copies expire after it. */
  readonly expiresInSeconds?: number;
  /** An action on the chat, not a message: the server leaves the chat lists as they are. */
  readonly control?: boolean;
}

/** What a SEND and a GROUP_SEND alike say of how the message is delivered (their `DeliveryOptions`). */
export type DeliveryOptions = Pick<SendOptions, 'expiresInSeconds' | 'control'>;

/** The frame fields of `options`: only those set. */
const deliveryFields = (options: DeliveryOptions) => ({
  ...(options.expiresInSeconds ? { expiresInSeconds: options.expiresInSeconds } : {}),
  ...(options.control ? { control: true as const } : {}),
});

/** A short pause before resending over a connection that is closing, so the retry waits for the next one. */
const RESEND_PAUSE_MS = 200;

export class Outbox {
  private readonly perConversation = new KeyedQueue();

  constructor(private readonly deps: OutboxDeps) {}

  /** Queues a message to `to`; resolves once the server has it (one grey tick). */
  async send(to: string, plaintext: Uint8Array, options: SendOptions = {}): Promise<SentMessage> {
    return (await this.sendTo(to, plaintext, options)).sent;
  }

  /** {@link send}, also answering the devices the message was encrypted for. */
  sendTo(to: string, plaintext: Uint8Array, options: SendOptions = {}): Promise<{ sent: SentMessage; devices: DeviceAddress[] }> {
    const conversationId = directConversationId(this.deps.self.userId, to);
    const msgId = randomUUID();
    return this.perConversation.run(conversationId, () => this.deliver({ msgId, conversationId, to }, plaintext, options));
  }

  /**
   * Queues a group message (GROUP_SEND), in the group conversation's turn: `encrypt` (which may first give
   * the Sender Key to member devices) runs when the previous message of the group has its ACK. When the
   * server answers that the group has changed (STALE_GROUP), `encrypt` runs again with `stale` set, to
   * read the group anew, give new member devices the key, and encrypt for the current version.
   */
  sendToGroup(
    conversationId: string,
    encrypt: (stale: boolean) => Promise<{ ciphertext: Uint8Array; groupVersion: number }>,
    options: DeliveryOptions = {},
  ): Promise<SentMessage> {
    const msgId = randomUUID();
    return this.perConversation.run(conversationId, async () => {
      const seq = await this.deps.sequence.nextToSend(conversationId);
      for (let refused = 0; ; refused++) {
        const encrypted = await encrypt(refused > 0);
        const ciphertext = Buffer.from(encrypted.ciphertext).toString('base64');
        try {
          const ack = await this.sendUntilAnswered({ action: 'GROUP_SEND', msgId, conversationId, seq, groupVersion: encrypted.groupVersion, ciphertext, ...deliveryFields(options) });
          return this.accepted({ msgId, conversationId }, seq, ack);
        } catch (error) {
          if (!(error instanceof ParleyApiError && error.code === 'STALE_GROUP') || refused + 1 >= (this.deps.maxMismatches ?? 3)) throw error;
        }
      }
    });
  }

  private async accepted(message: { msgId: string; conversationId: string }, seq: number, ack: AckFrame, silent = false): Promise<SentMessage> {
    await this.deps.sequence.sent(message.conversationId, seq);
    if (!silent) await this.deps.onSent({ status: 'sent', conversationId: message.conversationId, msgIds: [message.msgId], by: this.deps.self, serverTs: ack.serverTs });
    return { msgId: message.msgId, conversationId: message.conversationId, seq, serverTs: ack.serverTs };
  }

  private async deliver(
    message: { msgId: string; conversationId: string; to: string },
    plaintext: Uint8Array,
    options: SendOptions,
  ): Promise<{ sent: SentMessage; devices: DeviceAddress[] }> {
    const { recipients, sessions, sequence } = this.deps;
    const seq = await sequence.nextToSend(message.conversationId);
    const preview = await options.preview?.(message);
    for (let refused = 0; ; refused++) {
      const devices = await recipients.devicesFor(message.to);
      if (!devices.some((device) => device.userId === message.to)) throw new NoKeysError([], message.to);
      const envelopes = await Promise.all(devices.map((device) => sessions.encrypt(device, plaintext)));
      try {
        const ack = await this.sendUntilAnswered({ action: 'SEND', ...message, seq, envelopes, ...(preview ? { preview } : {}), ...deliveryFields(options) });
        return { sent: await this.accepted(message, seq, ack, options.silent), devices };
      } catch (error) {
        const correctable = error instanceof ParleyApiError && (error.code === 'MISMATCHED_DEVICES' || error.code === 'STALE_DEVICES');
        if (!correctable || refused + 1 >= (this.deps.maxMismatches ?? 3)) throw error;
        if (error.code === 'STALE_DEVICES') await recipients.renewStale((error.details as { staleDevices: DeviceAddress[] }).staleDevices);
        else await recipients.correct(error.details as unknown as DeviceMismatch);
      }
    }
  }

  private async sendUntilAnswered(frame: Omit<SendFrame, 'requestId'> | Omit<GroupSendFrame, 'requestId'>): Promise<AckFrame> {
    for (;;) {
      try {
        return await this.deps.request(frame);
      } catch (error) {
        if (!(error instanceof ConnectionLostError)) throw error;
        await new Promise((resolve) => setTimeout(resolve, RESEND_PAUSE_MS));
      }
    }
  }
}
