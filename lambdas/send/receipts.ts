/**
 * Receipts travel the messages' path: a record on the stream, keyed by conversation so it stays in order
 * with the messages, and the fanout queues it for every device of its recipients.
 */
import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import { derivedId } from '../protocol/derived-id';
import type { ReceiptRecord } from '../protocol/stream-records';
import { streamName, type Deps } from '../runtime/deps';

/**
 * The same receipt gets the same id, so a client drops a repeated one (a DELIVERED retried after its
 * receipt went out) by id, as it drops repeated messages by msgId.
 */
export function receiptIdOf(status: string, by: { userId: string; deviceId: number }, msgIds: readonly string[]): string {
  return derivedId(`${status}:${by.userId}.${by.deviceId}:${msgIds.join(',')}`);
}

export async function putReceipt(deps: Deps, record: ReceiptRecord): Promise<void> {
  await deps.clients.kinesis.send(
    new PutRecordCommand({
      StreamName: streamName(deps, 'messages'),
      PartitionKey: record.conversationId,
      Data: Buffer.from(JSON.stringify(record)),
    }),
  );
}
