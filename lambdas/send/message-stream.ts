/** The message stream: every record keyed by its conversation, so one conversation's records stay in order. */
import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import type { StreamRecord } from '../protocol/stream-records';
import { streamName, type Deps } from '../runtime/deps';
import { traceHeaderOf } from '../runtime/message-trace';

/** Puts `record` on the stream with the current trace's header, so the fanout continues the message's trace. */
export async function putOnMessageStream(deps: Deps, record: StreamRecord): Promise<void> {
  const traceHeader = traceHeaderOf(deps);
  await deps.clients.kinesis.send(
    new PutRecordCommand({
      StreamName: streamName(deps, 'messages'),
      PartitionKey: record.conversationId,
      Data: Buffer.from(JSON.stringify(traceHeader ? { ...record, traceHeader } : record)),
    }),
  );
}
