/**
 * The message streams: 1:1 conversations' records on `messages`, group conversations' on `groupMessages`, so
 * that a group's fan-out never holds up a 1:1 conversation. Every record is keyed by its conversation and one
 * conversation's records always go to the same stream, so they stay in order.
 */
import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import type { StreamRecord } from '../protocol/stream-records';
import type { StreamId } from '../resources';
import { streamName, type Deps } from '../runtime/deps';
import { traceHeaderOf } from '../runtime/message-trace';
import { groupIdOfConversation } from './conversations';

/** The stream a conversation's records go to: its kind decides, so it never changes. */
export const streamOfConversation = (conversationId: string): StreamId => (groupIdOfConversation(conversationId) === undefined ? 'messages' : 'groupMessages');

/** Puts `record` on its conversation's stream with the current trace's header, so the fanout continues the message's trace. */
export async function putOnMessageStream(deps: Deps, record: StreamRecord): Promise<void> {
  const traceHeader = traceHeaderOf(deps);
  await deps.clients.kinesis.send(
    new PutRecordCommand({
      StreamName: streamName(deps, streamOfConversation(record.conversationId)),
      PartitionKey: record.conversationId,
      Data: Buffer.from(JSON.stringify(traceHeader ? { ...record, traceHeader } : record)),
    }),
  );
}
