/**
 * The `groupMessages` stream's consumer: group conversations' records, with the same code as `fanout.ts`,
 * named apart so that its records and failures are counted apart (the `consumer` dimension).
 */
import { StreamRecord } from '../protocol/stream-records';
import { streamConsumer } from '../runtime/stream-consumer';
import { deliverStreamRecord } from './stream-record-delivery';

export const handler = streamConsumer('groupFanout', StreamRecord, deliverStreamRecord);
