import { ParleyError } from '../protocol/errors';
import { GroupId } from '../protocol/groups-api';

/** The `{groupId}` of a groups route, or a 400 naming it. */
export function groupIdOf(pathParameters: Readonly<Record<string, string | undefined>>): string {
  const groupId = GroupId.safeParse(pathParameters.groupId);
  if (!groupId.success) throw new ParleyError('BAD_REQUEST', 'groupId: a group id is a UUID');
  return groupId.data;
}
