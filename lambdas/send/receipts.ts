/**
 * Receipts travel the messages' path: a record on the stream, keyed by conversation so it stays in order
 * with the messages, and the fanout queues it for every device of its recipients.
 */
import { derivedId } from '../protocol/derived-id';
import type { ReceiptRecord } from '../protocol/stream-records';
import type { Deps } from '../runtime/deps';
import { putOnMessageStream } from './message-stream';

/**
 * The same receipt gets the same id, so a client drops a repeated one (a DELIVERED retried after its
 * receipt went out) by id, as it drops repeated messages by msgId.
 */
export function receiptIdOf(status: string, by: { userId: string; deviceId: number }, msgIds: readonly string[]): string {
  return derivedId(`${status}:${by.userId}.${by.deviceId}:${msgIds.join(',')}`);
}

/**
 * A receipt's serverTs: now, but later than every message it names, so that in every queue a receipt
 * comes after the messages it is about, whatever the clocks of the Lambdas that stamped them. A receipt
 * needs no tick of the conversation's clock: nothing orders itself after a receipt, and a clock written
 * once per recipient device per message would be a hot item in a large group.
 */
export const receiptServerTs = (now: number, namedServerTs: readonly number[]): number =>
  Math.max(now, ...namedServerTs.map((serverTs) => serverTs + 1));

export async function putReceipt(deps: Deps, record: ReceiptRecord): Promise<void> {
  await putOnMessageStream(deps, record);
}
