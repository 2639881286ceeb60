/**
 * Per-conversation sequence numbers: the counter this device stamps on what it sends, and, per sending
 * device, the highest seq received, so a jump shows a gap. The first seq seen from a device sets its
 * baseline (a newly linked device has not seen the conversation's past); later a seq above last + 1 is a gap.
 */
import type { DeviceAddress } from './session-manager';
import { getJson, namespaces as ns, putJson, type KeyValueStore } from './store/key-value-store';

export interface Gap {
  expectedSeq: number;
  receivedSeq: number;
}

export class SequenceNumbers {
  constructor(private readonly store: KeyValueStore) {}

  /** The seq for this device's next message in the conversation (the first is 1). */
  async nextToSend(conversationId: string): Promise<number> {
    return (await getJson<number>(this.store, ns.sentSeq, conversationId)) ?? 1;
  }

  /** Called once the server accepted the message with `seq`. */
  sent(conversationId: string, seq: number): Promise<void> {
    return putJson(this.store, ns.sentSeq, conversationId, seq + 1);
  }

  /** Records a received seq; answers the gap it reveals, if any. A late (lower) seq is no gap. */
  async received(conversationId: string, from: DeviceAddress, seq: number): Promise<Gap | undefined> {
    const key = `${conversationId} ${from.userId}.${from.deviceId}`;
    const last = await getJson<number>(this.store, ns.receivedSeq, key);
    if (last !== undefined && seq <= last) return undefined;
    await putJson(this.store, ns.receivedSeq, key, seq);
    return last !== undefined && seq > last + 1 ? { expectedSeq: last + 1, receivedSeq: seq } : undefined;
  }
}
