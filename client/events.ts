/** The events a client emits, and the small typed emitter that emits them. */
import type { MessageContent, MessageRef } from './content';
import type { MessageKind } from './message-actions';
import type { Attachment } from './media/attachment';
import type { DeviceAddress, DecryptFailureReason } from './session-manager';

/**
 * A message decrypted on this device: from a peer, or sent by this account's other device. Its content's
 * reply, action and timer fields are as {@link MessageContent} documents them; `kind` says which it is.
 */
export interface IncomingMessage
  extends Pick<MessageContent, 'replyTo' | 'reaction' | 'edit' | 'deleteForEveryone' | 'disappearing' | 'expiresInSeconds' | 'unsupported'> {
  readonly msgId: string;
  readonly conversationId: string;
  /** For a group message: the group (`conversationId` is `group:<groupId>`). */
  readonly groupId?: string;
  /** The device that sent it; `from.userId` is this account's own for a message sent from another of its devices. */
  readonly from: DeviceAddress;
  /** True when this account sent it, from another of its devices. */
  readonly outgoing: boolean;
  /** The message as text, when it was sent as text. */
  readonly text?: string;
  /** The message as bytes, when it was sent as bytes. */
  readonly data?: Uint8Array;
  /** A photo, video, voice note or document: fetch it with `client.downloadAttachment(attachment, path)`. */
  readonly attachment?: Attachment;
  /**
   * `message`: text, bytes or media, possibly a reply. The others act on the chat: `reaction`, `edit`,
   * `delete` (for everyone: remove `deleteForEveryone.msgId` of this sender), `disappearing` (the chat's
   * timer changed), and `unsupported`: a newer client's content this SDK cannot read; show "unsupported message".
   */
  readonly kind: MessageKind;
  /** The sender's clock when it sent the message. */
  readonly sentAt: number;
  /** When the server accepted the message: the order of a conversation. */
  readonly serverTs: number;
  /** The sending device's counter in the conversation. */
  readonly seq: number;
}

/**
 * Ticks: `sent` (one grey tick: the server has the message), `delivered` (a device of `by`'s user stored
 * it; in a 1:1 chat with `upToServerTs`, every message this user sent there up to that serverTs, those
 * named in `msgIds` and the earlier ones alike), `read` (`by` read the conversation up to `msgIds[0]`),
 * `failed` (it waited 30 days for `by` in vain).
 */
export interface Receipt {
  readonly status: 'sent' | 'delivered' | 'read' | 'failed';
  readonly conversationId: string;
  readonly msgIds: readonly string[];
  /** The device the receipt is about; this device itself for `sent`. */
  readonly by: DeviceAddress;
  /** In a group: every member has the message (`delivered`) or has read up to it (`read`); `by` was the last. */
  readonly everyone?: true;
  /** A 1:1 `delivered`: every message this user sent in the conversation with a serverTs up to this one is delivered. */
  readonly upToServerTs?: number;
  readonly serverTs: number;
}

/** A group's membership or name changed (or this user was added to it, or removed from it). */
export interface GroupUpdate {
  readonly groupId: string;
  readonly conversationId: string;
  /** The group's version after the change. */
  readonly version: number;
  readonly name: string;
  /** The user who made the change. */
  readonly by: string;
  readonly added: readonly string[];
  /** Who left or was removed; this user's own id when it is no longer a member. */
  readonly removed: readonly string[];
  readonly madeAdmin: readonly string[];
  readonly serverTs: number;
}

export type ConnectionState =
  /** Opening the WebSocket. */
  | 'connecting'
  /** Connected, fetching what was queued meanwhile (SYNC). */
  | 'syncing'
  /** Connected and up to date: messages arrive as they are sent. */
  | 'online'
  /** Disconnected; the next attempt is in `retryInMs`. */
  | 'offline'
  /** Closed for good: by `close()`, or by the server (`reason`); the client does not reconnect. */
  | 'closed';

export interface ConnectionStatus {
  readonly state: ConnectionState;
  /** For `offline`: when the next attempt starts. */
  readonly retryInMs?: number;
  /** For `offline` and `closed`: why. */
  readonly reason?: string;
}

/** A message that came but could not be read; it is acknowledged and never shown. */
export interface UndecryptableMessage {
  readonly msgId: string;
  readonly conversationId: string;
  readonly from: DeviceAddress;
  /**
   * `bad-content`: it decrypted but is not a message this SDK reads; `no-sender-key`: a group message whose
   * sender's key did not come within `senderKeyWaitMs`; `refused-action`: a reaction, edit or delete that
   * names no message of the chat this device has, or came past its window (the error says which).
   */
  readonly reason: DecryptFailureReason | 'bad-content' | 'no-sender-key' | 'refused-action';
  readonly error: Error;
}

/** A sending device's `seq` jumped: messages in between have not arrived (yet). */
export interface SequenceGap {
  readonly conversationId: string;
  readonly from: DeviceAddress;
  /** The seq that was expected next. */
  readonly expectedSeq: number;
  /** The seq that came. */
  readonly receivedSeq: number;
}

/** A peer's device now has an identity key other than the one this device knew: the app should warn. */
export interface IdentityChanged {
  readonly device: DeviceAddress;
  /** The user had marked this device verified (its safety number); the verification is now dropped: warn loudly. */
  readonly wasVerified?: true;
}

/** This newly linked device received the account's shared keys from the device whose link code it used: its chat list shows previews now. */
export interface Provisioned {
  readonly by: DeviceAddress;
  readonly chatListKeyIds: readonly number[];
}

/** A watched user's presence changed (or is answered on subscribing), as their privacy settings let this user see it. */
export interface PresenceEvent {
  readonly userId: string;
  readonly online: boolean;
  /** When the user was last online, epoch ms; only while offline and only when they show it to this user. */
  readonly lastSeen?: number;
}

/**
 * Someone in a conversation is typing (`composing`) or stopped (`paused`). The SDK emits `paused` by
 * itself when a `composing` is not refreshed within 5 s (`expired: true`).
 */
export interface TypingEvent {
  readonly conversationId: string;
  readonly from: DeviceAddress;
  readonly state: 'composing' | 'paused';
  readonly expired?: true;
}

/** Read messages of a disappearing chat whose timer ran out: the app deletes them now. */
export interface ExpiredMessages {
  readonly conversationId: string;
  readonly messages: readonly MessageRef[];
}

export interface ParleyEvents {
  expired: ExpiredMessages;
  presence: PresenceEvent;
  typing: TypingEvent;
  message: IncomingMessage;
  receipt: Receipt;
  groupUpdate: GroupUpdate;
  connection: ConnectionStatus;
  undecryptable: UndecryptableMessage;
  gap: SequenceGap;
  identityChanged: IdentityChanged;
  provisioned: Provisioned;
  /** Something failed in the background (a prekey upload, a listener); the client carries on. */
  error: Error;
}

export type Listener<T> = (event: T) => void | Promise<void>;

/**
 * Emits to listeners in the order they were added and waits for the promises they return: an app that
 * stores a message in an async `message` listener has it stored before the SDK acknowledges it.
 */
export class Emitter<Events extends { error: Error }> {
  private readonly listeners = new Map<keyof Events, Listener<never>[]>();

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), listener as Listener<never>]);
    return () => this.off(name, listener);
  }

  off<K extends keyof Events>(name: K, listener: Listener<Events[K]>): void {
    this.listeners.set(name, (this.listeners.get(name) ?? []).filter((l) => l !== listener));
  }

  /** Calls every listener; a listener that throws is reported as an `error` event, not to the caller. */
  async emit<K extends keyof Events>(name: K, event: Events[K]): Promise<void> {
    for (const listener of this.listeners.get(name) ?? []) {
      try {
        await (listener as Listener<Events[K]>)(event);
      } catch (error) {
        if (name !== 'error') await this.emit('error', error instanceof Error ? error : new Error(String(error)));
      }
    }
  }
}
