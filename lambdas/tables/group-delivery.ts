/**
 * The `groupDelivery` table: per group and member, how far the member has the group's messages (on at
 * least one of its devices). Moving it is what makes a member count once per message in the tallies.
 */
import { tableName, type Deps } from '../runtime/deps';
import { advancePosition } from './advance-position';
import { queryAll } from './query-all';

/** Moves the member's position forward (see `advancePosition`): the position it had, or `undefined`. */
export const advanceMemberDelivery = (deps: Deps, conversationId: string, userId: string, position: string) =>
  advancePosition(deps, 'groupDelivery', { conversationId, userId }, position);

/** The members who have the group's messages up to `position` at least. */
export async function membersWithDelivered(deps: Deps, conversationId: string, position: string): Promise<string[]> {
  const members = await queryAll<{ userId: string }>(deps, {
    TableName: tableName(deps, 'groupDelivery'),
    KeyConditionExpression: 'conversationId = :c',
    FilterExpression: '#position >= :p',
    ExpressionAttributeNames: { '#position': 'position' },
    ExpressionAttributeValues: { ':c': conversationId, ':p': position },
  });
  return members.map((member) => member.userId);
}
