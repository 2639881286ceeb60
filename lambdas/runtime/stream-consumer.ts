import type * as z from '../protocol/zod';
import type { Deps } from './deps';
import { defineHandler, type Handler } from './lambda-handler';
import { METRIC, recordMetric } from './metrics';
import { messageIdsOf, traceHeaderIn, traceStreamRecord } from './message-trace';
import { logger, withLogKeys } from './observability';
import { KinesisStreamEvent } from './stream-events';

/** The ids of a record that correlate its log lines with the frames it came from (ids only, never contents). */
function correlationIdsOf(data: unknown): Record<string, string> {
  if (!data || typeof data !== 'object') return {};
  const ids: Record<string, string> = {};
  for (const key of ['kind', 'msgId', 'conversationId', 'receiptId', 'changeId'] as const) {
    const value = (data as Record<string, unknown>)[key];
    if (typeof value === 'string') ids[key] = value;
  }
  return ids;
}

export interface BatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/**
 * A Kinesis stream consumer that keeps each partition key's records in order and reports partial batch
 * failures. Records of one key run one after another; keys run side by side. When a record fails, the
 * rest of its key's records are not tried, and the failure is reported by sequence number: Lambda then
 * retries from the lowest failed record, so processing must be idempotent (it is retried as a whole).
 * A record that does not match `schema` fails the same way and ends in the on-failure queue.
 */
export function streamConsumer<S extends z.ZodMiniType>(
  name: string,
  schema: S,
  process: (record: z.infer<S>, deps: Deps) => Promise<void>,
): Handler<unknown, BatchResponse> {
  return defineHandler(name, async (rawEvent, deps) => {
    const { Records } = KinesisStreamEvent.parse(rawEvent);
    const byKey = new Map<string, typeof Records>();
    for (const record of Records) {
      const key = record.kinesis.partitionKey;
      byKey.set(key, [...(byKey.get(key) ?? []), record]);
    }
    const failed: string[] = [];
    await Promise.all(
      [...byKey.values()].map(async (records) => {
        for (const record of records) {
          // The schema has decoded the base64 data; parse our JSON from it.
          let data: unknown;
          try {
            data = JSON.parse(record.kinesis.data);
          } catch {
            data = undefined;
          }
          const ok = await withLogKeys({ consumer: name, ...correlationIdsOf(data) }, async () => {
            try {
              if (data === undefined) throw new Error('The record is not JSON');
              const trace = {
                functionName: deps.env.AWS_LAMBDA_FUNCTION_NAME ?? name,
                traceHeader: traceHeaderIn(data),
                ids: messageIdsOf(data),
              };
              await traceStreamRecord(deps, trace, () => process(schema.parse(data), deps));
              logger.debug('Stream record processed', { sequenceNumber: record.kinesis.sequenceNumber });
              return true;
            } catch (error) {
              logger.error('Stream record failed', { sequenceNumber: record.kinesis.sequenceNumber, error: error as Error });
              return false;
            }
          });
          if (!ok) {
            failed.push(record.kinesis.sequenceNumber);
            return;
          }
        }
      }),
    );
    recordMetric(METRIC.streamRecords, Records.length, { consumer: name });
    if (failed.length > 0) recordMetric(METRIC.streamRecordsFailed, failed.length, { consumer: name });
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  });
}
