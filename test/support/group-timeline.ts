import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ParleyLocal } from '../../local/runtime';
import type { TimelineEntry } from '../../lambdas/tables/group-timeline';

/**
 * A group message's entry in its group's timeline, read from the table: a group message is stored there
 * once for every member device, not queued per device, so this is what the server keeps for a member
 * device that has not read it (SYNC hands out only an entry not withdrawn and not past `expiresAt`).
 */
export async function timelineEntryOf(parley: ParleyLocal, conversationId: string, msgId: string): Promise<TimelineEntry | undefined> {
  const { Items = [] } = await parley.clients.db.send(
    new QueryCommand({
      TableName: parley.resources.tables.groupTimeline,
      KeyConditionExpression: 'conversationId = :c',
      FilterExpression: 'msgId = :m',
      ExpressionAttributeValues: { ':c': conversationId, ':m': msgId },
    }),
  );
  return Items[0] as TimelineEntry | undefined;
}

/** Whether a device that has not read the message yet would still get it at SYNC: stored and not withdrawn by a REVOKE. */
export const waitingInTimeline = async (parley: ParleyLocal, conversationId: string, msgId: string) => {
  const entry = await timelineEntryOf(parley, conversationId, msgId);
  return entry !== undefined && entry.revoked === undefined && entry.frame !== undefined;
};
