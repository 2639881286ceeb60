/** The `groups` table: one item per group with its name, version and members. */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { GroupRole } from '../protocol/groups-api';
import type { GroupChange } from '../protocol/stream-records';
import { tableName, type Deps } from '../runtime/deps';
import { ifConditionHolds } from './conditional-write';
import { putIfAbsent } from './put-if-absent';

export interface GroupMember {
  readonly role: GroupRole;
  /** Epoch milliseconds when the user joined. */
  readonly joinedAt: number;
  /** The group's version that added the user: it gets nothing sent to an earlier version. */
  readonly joinedVersion: number;
}

export interface GroupRecord {
  readonly groupId: string;
  readonly name: string;
  readonly createdBy: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** Counts changes from 1; each change writes only if the version it read is still there. */
  readonly version: number;
  readonly members: Readonly<Record<string, GroupMember>>;
  /** What made this version, and when (epoch milliseconds), so that a retry announces the very same change. */
  readonly lastChange: GroupChange;
  readonly changedAt: number;
}

export async function createGroup(deps: Deps, group: GroupRecord): Promise<boolean> {
  return putIfAbsent(deps, 'groups', { ...group });
}

export async function getGroup(deps: Deps, groupId: string): Promise<GroupRecord | undefined> {
  const { Item } = await deps.clients.db.send(
    new GetCommand({ TableName: tableName(deps, 'groups'), Key: { groupId }, ConsistentRead: true }),
  );
  return Item as GroupRecord | undefined;
}

/**
 * Writes the group's next version if nobody changed it since `previous` was read: false when someone
 * did, and the caller reads again and retries.
 */
export async function replaceGroup(deps: Deps, previous: GroupRecord, next: GroupRecord): Promise<boolean> {
  const written = await ifConditionHolds(
    deps.clients.db.send(
      new PutCommand({
        TableName: tableName(deps, 'groups'),
        Item: { ...next },
        ConditionExpression: 'version = :previous',
        ExpressionAttributeValues: { ':previous': previous.version },
      }),
    ),
  );
  return written !== undefined;
}
