/** The message stream's consumer: each message, receipt or group change goes to every device it addresses, queue first. */
import { StreamRecord } from '../protocol/stream-records';
import { streamConsumer } from '../runtime/stream-consumer';
import { deliverMessage, deliverReceipt } from './delivery';
import { deliverGroupChange } from './group-delivery';

export const handler = streamConsumer('fanout', StreamRecord, (record, deps) => {
  switch (record.kind) {
    case 'message':
      return deliverMessage(deps, record);
    case 'receipt':
      return deliverReceipt(deps, record);
    case 'groupChange':
      return deliverGroupChange(deps, record);
  }
});
