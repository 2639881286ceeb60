/**
 * The `presence` table: per user, the live connection of each device, when the last one went away, and
 * the privacy settings that decide who sees it. A user is online while the item names any connection.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tableName, type Deps } from '../runtime/deps';
import { ifConditionHolds } from './conditional-write';
import { batchGet } from './batch-requests';

/** Who sees a thing: anyone, the user's contacts only, no one. */
export type Audience = 'everyone' | 'contacts' | 'nobody';

export interface PrivacySettings {
  /** Who sees when the user was last online. */
  readonly lastSeen: Audience;
  /** Who sees that the user is online now. */
  readonly online: Audience;
  /** Whether the user sends, and so receives, read receipts in 1:1 chats. */
  readonly readReceipts: boolean;
}

export const DEFAULT_PRIVACY: PrivacySettings = { lastSeen: 'everyone', online: 'everyone', readReceipts: true };

export interface PresenceRecord {
  readonly userId: string;
  readonly online: boolean;
  /** Epoch milliseconds when the user's last device went away; unset before the first one did. */
  readonly lastSeenAt?: number;
  readonly privacy: PrivacySettings;
}

const CONNECTION_PREFIX = 'connection#';
const connectionAttribute = (deviceId: number) => `${CONNECTION_PREFIX}${deviceId}`;

/** Each setting is its own attribute, so that changing one never overwrites a concurrent change of another. */
const settingAttributes = { lastSeen: 'lastSeenAudience', online: 'onlineAudience', readReceipts: 'readReceipts' } as const;

function recordOf(userId: string, item: Record<string, unknown> | undefined): PresenceRecord {
  const stored = Object.fromEntries(
    Object.entries(settingAttributes).flatMap(([setting, attribute]) => (item?.[attribute] === undefined ? [] : [[setting, item[attribute]]])),
  ) as Partial<PrivacySettings>;
  const online = Object.keys(item ?? {}).some((name) => name.startsWith(CONNECTION_PREFIX));
  const lastSeenAt = item?.lastSeenAt as number | undefined;
  return { userId, online, ...(lastSeenAt !== undefined ? { lastSeenAt } : {}), privacy: { ...DEFAULT_PRIVACY, ...stored } };
}

export async function getPresence(deps: Deps, userId: string): Promise<PresenceRecord> {
  const { Item } = await deps.clients.db.send(new GetCommand({ TableName: tableName(deps, 'presence'), Key: { userId } }));
  return recordOf(userId, Item);
}

/** The presence of many users, in batches; users without an item have the defaults and were never seen. */
export async function presenceOf(deps: Deps, userIds: readonly string[]): Promise<Map<string, PresenceRecord>> {
  const unique = [...new Set(userIds)];
  const items = await batchGet<Record<string, unknown>>(deps, 'presence', unique.map((userId) => ({ userId })));
  const found = new Map(items.map((item) => [item.userId as string, item]));
  return new Map(unique.map((userId) => [userId, recordOf(userId, found.get(userId))]));
}

/**
 * The device holds this connection now. Answers the presence before and after: the user came online
 * when it was offline before.
 */
export async function recordConnection(
  deps: Deps,
  userId: string,
  deviceId: number,
  connectionId: string,
): Promise<{ before: PresenceRecord; after: PresenceRecord }> {
  const { Attributes } = await deps.clients.db.send(
    new UpdateCommand({
      TableName: tableName(deps, 'presence'),
      Key: { userId },
      UpdateExpression: 'SET #connection = :c',
      ExpressionAttributeNames: { '#connection': connectionAttribute(deviceId) },
      ExpressionAttributeValues: { ':c': connectionId },
      ReturnValues: 'ALL_OLD',
    }),
  );
  const before = recordOf(userId, Attributes);
  return { before, after: { ...before, online: true } };
}

/**
 * The device's connection went away (closed, or its route expired): forgotten only if the device still
 * holds that one, and `lastSeenAt` becomes `at`. Answers the presence after, or undefined when the
 * device had moved to another connection meanwhile (nothing changed).
 */
export async function recordDisconnection(
  deps: Deps,
  userId: string,
  deviceId: number,
  connectionId: string,
  at: number,
): Promise<PresenceRecord | undefined> {
  const updated = await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'presence'),
        Key: { userId },
        UpdateExpression: 'REMOVE #connection SET lastSeenAt = :at',
        ConditionExpression: '#connection = :c',
        ExpressionAttributeNames: { '#connection': connectionAttribute(deviceId) },
        ExpressionAttributeValues: { ':c': connectionId, ':at': at },
        ReturnValues: 'ALL_NEW',
      }),
    ),
  );
  return updated && recordOf(userId, updated.Attributes);
}

/** Changes some of the user's privacy settings; answers the user's presence with all of them as they are now. */
export async function updatePrivacy(deps: Deps, userId: string, change: Partial<PrivacySettings>): Promise<PresenceRecord> {
  const given = (Object.keys(settingAttributes) as (keyof PrivacySettings)[]).filter((setting) => change[setting] !== undefined);
  if (given.length === 0) return getPresence(deps, userId);
  const { Attributes } = await deps.clients.db.send(
    new UpdateCommand({
      TableName: tableName(deps, 'presence'),
      Key: { userId },
      UpdateExpression: `SET ${given.map((setting) => `#${setting} = :${setting}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(given.map((setting) => [`#${setting}`, settingAttributes[setting]])),
      ExpressionAttributeValues: Object.fromEntries(given.map((setting) => [`:${setting}`, change[setting]])),
      ReturnValues: 'ALL_NEW',
    }),
  );
  return recordOf(userId, Attributes);
}
