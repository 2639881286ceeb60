/**
 * Two grey ticks of 1:1 chats come as each conversation's delivery state ("delivered up to"), pushed live
 * and handed out again at the end of every SYNC, never queued. The device keeps the newest state time it
 * has seen, so that a SYNC asks only for what changed after it (`receiptsAfter`).
 */
import { getJson, namespaces as ns, putJson, type KeyValueStore } from './store/key-value-store';

const KEY = 'seenUpTo';

export class DeliveryStates {
  constructor(private readonly store: KeyValueStore) {}

  /** The `serverTs` of the newest state seen, for SYNC's `receiptsAfter`; none before the first. */
  seenUpTo(): Promise<number | undefined> {
    return getJson<number>(this.store, ns.deliveryStates, KEY);
  }

  /** A state was handled: later SYNCs need nothing older. */
  async seen(serverTs: number): Promise<void> {
    const before = await this.seenUpTo();
    if (before === undefined || serverTs > before) await putJson(this.store, ns.deliveryStates, KEY, serverTs);
  }
}

/**
 * Whether a receipt is about this message sent by this device's user: it names it, or (a 1:1 `delivered`
 * state) covers every message of the conversation up to its `upToServerTs`, this one included.
 *
 * @example
 * client.on('receipt', (r) => { if (r.status === 'delivered' && receiptCovers(r, sent)) showTwoTicks(sent.msgId); });
 */
export function receiptCovers(
  receipt: { readonly conversationId: string; readonly msgIds: readonly string[]; readonly upToServerTs?: number },
  message: { readonly msgId: string; readonly conversationId: string; readonly serverTs: number },
): boolean {
  if (receipt.msgIds.includes(message.msgId)) return true;
  return receipt.upToServerTs !== undefined && receipt.conversationId === message.conversationId && message.serverTs <= receipt.upToServerTs;
}
