/** What both message streams' consumers do with a record: each message, receipt or group change goes to every device it addresses, queue first. */
import type { GroupMessageRecord, MessageRecord, StreamRecord } from '../protocol/stream-records';
import type { Deps } from '../runtime/deps';
import { isRevoked } from '../tables/accepted-messages';
import { deliverMessage, deliverReceipt } from './delivery';
import { deliverGroupChange, deliverGroupMessage } from './group-delivery';
import { deliverRevoke } from './revoke-delivery';

/**
 * A message record this much older than its serverTs was retried or redriven: its sender may have deleted
 * it for everyone meanwhile, which one read tells. A record on time (nearly all) costs no read: a REVOKE
 * that overtakes it is answered by the revoke record that follows it.
 */
export const LATE_RECORD_MS = 60_000;

const revokedMeanwhile = async (deps: Deps, record: MessageRecord | GroupMessageRecord) =>
  deps.now() - record.serverTs > LATE_RECORD_MS && (await isRevoked(deps, record.msgId));

export async function deliverStreamRecord(record: StreamRecord, deps: Deps): Promise<void> {
  switch (record.kind) {
    case 'message':
      if (await revokedMeanwhile(deps, record)) return;
      return deliverMessage(deps, record);
    case 'groupMessage':
      if (await revokedMeanwhile(deps, record)) return;
      return deliverGroupMessage(deps, record);
    case 'receipt':
      return deliverReceipt(deps, record);
    case 'groupChange':
      return deliverGroupChange(deps, record);
    case 'revoke':
      return deliverRevoke(deps, record);
  }
}
