/**
 * What this device knows of each message of its chats, sent or received, for the checks that only a
 * device can make (the server cannot read a conversation): that a reply, reaction, edit or delete names a
 * message of the chat, that an edit or delete is the author's own and within its window, and when a read
 * message of a disappearing chat is due to go, and the texts an edit replaced (the edit history, kept on
 * the device only). It goes with the message: a delete for everyone or an expiry removes it.
 */
import { MAX_EXCERPT_CHARS, type MessageRef } from './content';
import type { EarlierText } from './message-actions';
import { receivedMessageId } from './seen-messages';
import { getJson, namespaces as ns, putJson, type KeyValueStore } from './store/key-value-store';

export interface LoggedMessage extends MessageRef {
  readonly conversationId: string;
  /** When the server accepted it: windows are measured from here. */
  readonly serverTs: number;
  /** The start of its text, quoted by a reply. */
  readonly excerpt: string;
  /** Its whole text (the latest, if edited): what an edit replaces goes into `history`. */
  readonly text?: string;
  readonly edited?: true;
  /** The texts an edit replaced, oldest first; kept on this device only, never sent anywhere. */
  readonly history?: readonly EarlierText[];
  /** When this user read it (its own messages: when sent); the disappearing timer runs from here. */
  readonly readAt?: number;
  readonly expiresInSeconds?: number;
  /** The current reaction of each user who reacted, by userId. */
  readonly reactions: Readonly<Record<string, string>>;
}

export const excerptOf = (text: string | undefined) => (text ?? '').slice(0, MAX_EXCERPT_CHARS);

const keyOf = (ref: MessageRef) => receivedMessageId({ userId: ref.author }, ref.msgId);

export class MessageLog {
  constructor(private readonly store: KeyValueStore) {}

  get(ref: MessageRef): Promise<LoggedMessage | undefined> {
    return getJson<LoggedMessage>(this.store, ns.messageLog, keyOf(ref));
  }

  put(message: LoggedMessage): Promise<void> {
    return putJson(this.store, ns.messageLog, keyOf(message), message);
  }

  delete(ref: MessageRef): Promise<void> {
    return this.store.delete(ns.messageLog, keyOf(ref));
  }

  /** Every logged message; a device keeps what its chats hold, read when a timer or READ needs all. */
  async all(): Promise<LoggedMessage[]> {
    const keys = await this.store.keys(ns.messageLog);
    return (await Promise.all(keys.map((key) => getJson<LoggedMessage>(this.store, ns.messageLog, key)))).filter((m): m is LoggedMessage => !!m);
  }

  /** The conversation's disappearing timer in seconds (0: off). */
  async timerOf(conversationId: string): Promise<number> {
    return (await getJson<number>(this.store, ns.disappearingTimers, conversationId)) ?? 0;
  }

  setTimer(conversationId: string, seconds: number): Promise<void> {
    return putJson(this.store, ns.disappearingTimers, conversationId, seconds);
  }
}
