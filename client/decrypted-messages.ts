/**
 * Messages decrypted but not yet handed to the app. Decrypting uses up the message key (libsignal stores
 * the advanced session at once), so a message whose handling is cut short (the app crashed, the listener
 * failed to finish) could never be decrypted again when the server hands it out once more. Its plaintext
 * waits here instead, in the device's own store, until the app has had it.
 */
import type { IncomingMessage } from './events';
import { attachmentFromWire, attachmentToWire, type WireAttachment } from './media/attachment';
import { receivedMessageId } from './seen-messages';
import { getJson, namespaces as ns, putJson, type KeyValueStore } from './store/key-value-store';

type Stored = Omit<IncomingMessage, 'data' | 'attachment'> & { data?: string; attachment?: WireAttachment };

export class DecryptedMessages {
  constructor(private readonly store: KeyValueStore) {}

  /** @param id the message's {@link receivedMessageId} */
  async get(id: string): Promise<IncomingMessage | undefined> {
    const stored = await getJson<Stored>(this.store, ns.decryptedMessages, id);
    if (!stored) return undefined;
    const { data, attachment, ...rest } = stored;
    return {
      ...rest,
      ...(data !== undefined ? { data: new Uint8Array(Buffer.from(data, 'base64')) } : {}),
      ...(attachment !== undefined ? { attachment: attachmentFromWire(attachment) } : {}),
    };
  }

  put(message: IncomingMessage): Promise<void> {
    const { data, attachment, ...rest } = message;
    return putJson(this.store, ns.decryptedMessages, receivedMessageId(message.from, message.msgId), {
      ...rest,
      ...(data !== undefined ? { data: Buffer.from(data).toString('base64') } : {}),
      ...(attachment !== undefined ? { attachment: attachmentToWire(attachment) } : {}),
    });
  }

  delete(id: string): Promise<void> {
    return this.store.delete(ns.decryptedMessages, id);
  }
}
