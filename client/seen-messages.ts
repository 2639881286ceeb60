/**
 * The messages (by {@link receivedMessageId}), receiptIds and changeIds this device has handled, kept in
 * the store, so a message the server hands out twice (a redelivery, a SYNC racing a live push) is shown once. An id is kept for 32 days: the server
 * keeps a queued message 30 days at most, so nothing older can come again.
 */
import { getJson, namespaces as ns, putJson, type KeyValueStore } from './store/key-value-store';

const KEEP_MS = 32 * 24 * 60 * 60 * 1000;

/**
 * How this device names a received message: its sender's userId and msgId. A msgId is the sender's to
 * choose, so only the pair is the sender's own; a server that let another sender reuse one must not make
 * this device drop (or show in its place) a different message.
 */
export const receivedMessageId = (from: { readonly userId: string }, msgId: string) => `${from.userId}/${msgId}`;

export class SeenMessages {
  constructor(
    private readonly store: KeyValueStore,
    private readonly now: () => number,
  ) {}

  async has(id: string): Promise<boolean> {
    return (await this.store.get(ns.seenMessages, id)) !== undefined;
  }

  add(id: string): Promise<void> {
    return putJson(this.store, ns.seenMessages, id, this.now());
  }

  /** Forgets ids older than the server could redeliver. */
  async prune(): Promise<number> {
    let pruned = 0;
    for (const id of await this.store.keys(ns.seenMessages)) {
      const at = await getJson<number>(this.store, ns.seenMessages, id);
      if (at !== undefined && at < this.now() - KEEP_MS) {
        await this.store.delete(ns.seenMessages, id);
        pruned++;
      }
    }
    return pruned;
  }
}
