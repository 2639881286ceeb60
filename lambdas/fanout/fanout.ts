/** The `messages` stream's consumer: 1:1 conversations' records. */
import { StreamRecord } from '../protocol/stream-records';
import { streamConsumer } from '../runtime/stream-consumer';
import { deliverStreamRecord } from './stream-record-delivery';

export const handler = streamConsumer('fanout', StreamRecord, deliverStreamRecord);
