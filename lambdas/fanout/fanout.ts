/** The message stream's consumer: each message or receipt goes to every device it addresses, queue first. */
import { StreamRecord } from '../protocol/stream-records';
import { streamConsumer } from '../runtime/stream-consumer';
import { deliverMessage, deliverReceipt } from './delivery';

export const handler = streamConsumer('fanout', StreamRecord, (record, deps) =>
  record.kind === 'message' ? deliverMessage(deps, record) : deliverReceipt(deps, record),
);
