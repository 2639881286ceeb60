import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DeviceCredentials } from '../../lambdas/protocol/credentials';
import type { ParleyLocal } from '../../local/runtime';

/** What a device's queue holds right now, read from the table (not through SYNC, which skips expired items). */
export async function queuedItems(parley: ParleyLocal, device: DeviceCredentials): Promise<Record<string, any>[]> {
  const { Items = [] } = await parley.clients.db.send(
    new QueryCommand({
      TableName: parley.resources.tables.deviceQueues,
      KeyConditionExpression: 'device = :d',
      ExpressionAttributeValues: { ':d': `${device.userId}#${device.deviceId}` },
    }),
  );
  return Items;
}

/** The msgIds of the stream records in a Kinesis event, as a fault-injecting `intercept` sees them. */
export const streamedMsgIds = (event: { Records: { kinesis: { data: string } }[] }): string[] =>
  event.Records.map((record) => JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')).msgId);
