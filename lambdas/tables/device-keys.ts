/**
 * The `deviceKeys` table: per device, the public keys every bundle of it carries. The identity key is
 * set by the device's first upload and never changes; a new identity comes with a new device record.
 */
import { DeleteCommand, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { KyberPrekey, SignedPrekey } from '../protocol/keys-api';
import { tableName, type Deps } from '../runtime/deps';
import { ifConditionHolds } from './conditional-write';

export interface DeviceKeysRecord {
  readonly userId: string;
  readonly deviceId: number;
  readonly identityKey: string;
  readonly registrationId: number;
  readonly signedPrekey: SignedPrekey;
  /** Handed out when no one-time Kyber prekey is left; never deleted, only replaced. */
  readonly lastResortKyberPrekey: KyberPrekey;
  /** Epoch milliseconds of the last upload. */
  readonly updatedAt: number;
  /** Epoch milliseconds a PREKEYS_LOW notice was queued, unless one-time prekeys were uploaded since. */
  readonly lowNoticeAt?: number;
}

export async function getDeviceKeys(deps: Deps, userId: string, deviceId: number): Promise<DeviceKeysRecord | undefined> {
  const { Item } = await deps.clients.db.send(
    new GetCommand({ TableName: tableName(deps, 'deviceKeys'), Key: { userId, deviceId }, ConsistentRead: true }),
  );
  return Item as DeviceKeysRecord | undefined;
}

/** The keys of every device of the user that has uploaded some. */
export async function listDeviceKeys(deps: Deps, userId: string): Promise<DeviceKeysRecord[]> {
  const { Items } = await deps.clients.db.send(
    new QueryCommand({
      TableName: tableName(deps, 'deviceKeys'),
      KeyConditionExpression: 'userId = :u',
      ExpressionAttributeValues: { ':u': userId },
      ConsistentRead: true,
    }),
  );
  return (Items ?? []) as DeviceKeysRecord[];
}

export interface DeviceKeysUpdate {
  readonly userId: string;
  readonly deviceId: number;
  readonly identityKey: string;
  /** Whether the record may be created: only an upload that carries every part of it. */
  readonly create: boolean;
  /** Fixed with the identity key: the record is written only while it has this one too. */
  readonly registrationId: number;
  readonly signedPrekey?: SignedPrekey | undefined;
  readonly lastResortKyberPrekey?: KyberPrekey | undefined;
  /** One-time prekeys came with the upload: a later take that leaves few may notify again. */
  readonly clearLowNotice: boolean;
  readonly updatedAt: number;
}

/**
 * Writes the parts the upload carries, only while the record has this identity key and registration id
 * (or, with `create`, has none yet): false when another identity holds the record, or it is gone.
 */
export async function updateDeviceKeys(deps: Deps, update: DeviceKeysUpdate): Promise<boolean> {
  const set: Record<string, unknown> = {
    identityKey: update.identityKey,
    updatedAt: update.updatedAt,
    registrationId: update.registrationId,
    signedPrekey: update.signedPrekey,
    lastResortKyberPrekey: update.lastResortKyberPrekey,
  };
  const names = Object.keys(set).filter((name) => set[name] !== undefined);
  const written = await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'deviceKeys'),
        Key: { userId: update.userId, deviceId: update.deviceId },
        UpdateExpression:
          `SET ${names.map((name) => `#${name} = :${name}`).join(', ')}` + (update.clearLowNotice ? ' REMOVE lowNoticeAt' : ''),
        ConditionExpression:
          (update.create ? 'attribute_not_exists(identityKey) OR ' : '') + '(identityKey = :identityKey AND registrationId = :registrationId)',
        ExpressionAttributeNames: Object.fromEntries(names.map((name) => [`#${name}`, name])),
        ExpressionAttributeValues: Object.fromEntries(names.map((name) => [`:${name}`, set[name]])),
      }),
    ),
  );
  return written !== undefined;
}

/** Records that a PREKEYS_LOW notice went out; false when one already had since the last upload. */
export async function markLowNotice(deps: Deps, userId: string, deviceId: number, at: number): Promise<boolean> {
  const written = await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'deviceKeys'),
        Key: { userId, deviceId },
        UpdateExpression: 'SET lowNoticeAt = :at',
        ConditionExpression: 'attribute_exists(identityKey) AND attribute_not_exists(lowNoticeAt)',
        ExpressionAttributeValues: { ':at': at },
      }),
    ),
  );
  return written !== undefined;
}

export async function deleteDeviceKeys(deps: Deps, userId: string, deviceId: number): Promise<void> {
  await deps.clients.db.send(new DeleteCommand({ TableName: tableName(deps, 'deviceKeys'), Key: { userId, deviceId } }));
}
