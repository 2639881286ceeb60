/** The message stream's consumer: each record goes to every device it addresses, queue first. */
import { MessageRecord } from '../protocol/stream-records';
import { streamConsumer } from '../runtime/stream-consumer';
import { deliverMessage } from './deliver-message';

export const handler = streamConsumer('fanout', MessageRecord, (record, deps) => deliverMessage(deps, record));
