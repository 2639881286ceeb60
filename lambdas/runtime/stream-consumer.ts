import { z } from 'zod';
import { KinesisDataStreamSchema } from '@aws-lambda-powertools/parser/schemas';
import type { Deps } from './deps';
import { defineHandler, type Handler } from './lambda-handler';
import { METRIC, recordMetric } from './metrics';
import { logger } from './observability';

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
export function streamConsumer<S extends z.ZodType>(
  name: string,
  schema: S,
  process: (record: z.infer<S>, deps: Deps) => Promise<void>,
): Handler<unknown, BatchResponse> {
  return defineHandler(name, async (rawEvent, deps) => {
    const { Records } = KinesisDataStreamSchema.parse(rawEvent);
    const byKey = new Map<string, typeof Records>();
    for (const record of Records) {
      const key = record.kinesis.partitionKey;
      byKey.set(key, [...(byKey.get(key) ?? []), record]);
    }
    const failed: string[] = [];
    await Promise.all(
      [...byKey.values()].map(async (records) => {
        for (const record of records) {
          try {
            // Powertools' schema has already decoded the base64 data; parse our JSON from it.
            const data = typeof record.kinesis.data === 'string' ? JSON.parse(record.kinesis.data) : record.kinesis.data;
            await process(schema.parse(data), deps);
          } catch (error) {
            logger.error('Stream record failed', { consumer: name, sequenceNumber: record.kinesis.sequenceNumber, error: error as Error });
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
