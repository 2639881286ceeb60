/**
 * The `devices` table: the devices of each account, the salted hash of each device's secret, and, once the
 * device has uploaded its identity, its registration id. Only a device with one is addressable: messages
 * and receipts go to it, and a SEND must carry an envelope for it.
 */
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { batchGet } from './batch-requests';
import { putIfAbsent } from './put-if-absent';
import type { PushPlatform } from '../resources';
import { tableName, type Deps } from '../runtime/deps';
import { ifConditionHolds } from './conditional-write';
import { mapConcurrently } from '../runtime/concurrency';
import { DEVICE_IDS } from '../accounts/constants';

/** The device's push registration: where a silent push reaches it while it is offline. */
export interface PushRegistration {
  readonly platform: PushPlatform;
  /** The SNS platform endpoint of the device's push token. */
  readonly endpointArn: string;
  /** Epoch milliseconds; tells this registration from a later one of the same endpoint. */
  readonly registeredAt: number;
  /** Epoch milliseconds of the last wake-up push; one before the device's `lastConnectedAt` no longer holds the next back. */
  readonly lastWokenAt?: number;
}

export interface DeviceRecord {
  readonly userId: string;
  readonly deviceId: number;
  readonly name: string;
  /** The primary device registered the account; the others were linked by it. */
  readonly primary: boolean;
  readonly secretSalt: string;
  readonly secretHash: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** Unset until the device registers a push token. */
  readonly push?: PushRegistration;
  /** Set by the device's first key upload, never changed; unset, the device has no keys yet. */
  readonly registrationId?: number;
  /** Epoch milliseconds of the device's latest `$connect`: a wake-up before it was answered. */
  readonly lastConnectedAt?: number;
  /**
   * The connection the device opened last, until its `$disconnect`: set, the device may be live, so a
   * group's fan-out reads its route; unset (or past `until`), it is offline and its route is not read.
   */
  readonly connection?: DeviceConnection;
}

export interface DeviceConnection {
  readonly connectionId: string;
  /** Epoch milliseconds past which the connection is closed whatever happened: its opening plus API Gateway's longest connection. */
  readonly until: number;
}

/**
 * Whether a device read a moment ago may hold a live connection: only then is its route worth a read.
 * A stale `connection` (a `$disconnect` lost, a refused handshake) costs one route read, no more.
 */
export const mayHoldConnection = (device: Pick<DeviceRecord, 'connection'>, now: number): boolean =>
  device.connection !== undefined && device.connection.until > now;

/** A device peers can write to: it has uploaded its keys, so a session with it can start. */
export const isAddressable = <T extends Pick<DeviceRecord, 'registrationId'>>(device: T): device is T & { registrationId: number } =>
  device.registrationId !== undefined;

export async function getDevice(deps: Deps, userId: string, deviceId: number): Promise<DeviceRecord | undefined> {
  const { Item } = await deps.clients.db.send(
    new GetCommand({ TableName: tableName(deps, 'devices'), Key: { userId, deviceId }, ConsistentRead: true }),
  );
  return Item as DeviceRecord | undefined;
}

export const listDevices = (deps: Deps, userId: string): Promise<DeviceRecord[]> => queryDevices(deps, userId, { consistent: true });

/** One query of the user's devices (`projection`: only those attributes come back; billed alike). */
async function queryDevices(deps: Deps, userId: string, { consistent, projection }: { consistent: boolean; projection?: string }): Promise<DeviceRecord[]> {
  const { Items } = await deps.clients.db.send(
    new QueryCommand({
      TableName: tableName(deps, 'devices'),
      KeyConditionExpression: 'userId = :u',
      ExpressionAttributeValues: { ':u': userId },
      ...(consistent ? { ConsistentRead: true } : {}),
      ...(projection ? { ProjectionExpression: projection } : {}),
    }),
  );
  return (Items ?? []) as DeviceRecord[];
}

/** Which of `userIds` have a device `deviceId` (every account has its primary device). */
export async function usersWithDevice(deps: Deps, userIds: readonly string[], deviceId: number): Promise<Set<string>> {
  const found = await batchGet<Pick<DeviceRecord, 'userId'>>(deps, 'devices', userIds.map((userId) => ({ userId, deviceId })), 'userId');
  return new Set(found.map((device) => device.userId));
}

/**
 * The ids of each user's devices, ascending; a user without an account is absent. Read by key, every id
 * an account may hold (MAX_DEVICES keys a user, each billed found or not): in batches of 100 keys, for
 * a membership change, rare, that may add a thousand users; `consistent` to see every device added before.
 */
export async function deviceIdsOfUsers(deps: Deps, userIds: readonly string[], consistent = false): Promise<Map<string, number[]>> {
  const keys = [...new Set(userIds)].flatMap((userId) => DEVICE_IDS.map((deviceId) => ({ userId, deviceId })));
  const found = await batchGet<Pick<DeviceRecord, 'userId' | 'deviceId'>>(deps, 'devices', keys, 'userId, deviceId', consistent);
  const ids = new Map<string, number[]>();
  for (const { userId, deviceId } of found) ids.set(userId, [...(ids.get(userId) ?? []), deviceId]);
  for (const list of ids.values()) list.sort((a, b) => a - b);
  return ids;
}

/** The ids of every device the user has, ascending, read consistently: one query, one read unit. */
export async function deviceIdsOfUser(deps: Deps, userId: string): Promise<number[]> {
  return (await queryDevices(deps, userId, { consistent: true, projection: 'deviceId' })).map((device) => device.deviceId).sort((a, b) => a - b);
}

/** What a fan-out reads of a device: whether it has keys, may be live, may be woken. */
export const DELIVERY_ATTRIBUTES = ['userId', 'deviceId', 'registrationId', 'connection', 'push', 'lastConnectedAt'] as const;
export type DeliverableDevice = Pick<DeviceRecord, (typeof DELIVERY_ATTRIBUTES)[number]>;

/**
 * The devices of `keys` that exist, in no particular order; eventually consistent, as a fan-out may read.
 * Only what delivery needs comes back (billed alike, by the whole item): a thousand records parse faster
 * without their names and secret hashes.
 */
export const devicesByKey = (deps: Deps, keys: readonly Pick<DeviceRecord, 'userId' | 'deviceId'>[]): Promise<DeliverableDevice[]> =>
  batchGet<DeliverableDevice>(deps, 'devices', keys, DELIVERY_ATTRIBUTES);

/** Users whose devices one fan-out reads at once. */
const CONCURRENT_DEVICE_QUERIES = 32;

/**
 * Every device of every one of `userIds`: one eventually consistent query per user, half a read unit for a
 * user's few small items, instead of a read of every possible device id (five keys, found or not, each
 * billed half a unit: five times as much for a thousand-member group). A group's fan-out reads by key the
 * devices its members' entries list, and queries only the users whose entry lists none, `consistent`ly
 * (a whole unit each, once) when it is to write their ids from what it finds.
 */
export async function devicesOfUsers(deps: Deps, userIds: readonly string[], consistent = false): Promise<DeviceRecord[]> {
  const perUser = await mapConcurrently(userIds, CONCURRENT_DEVICE_QUERIES, (userId) => queryDevices(deps, userId, { consistent }));
  return perUser.flat();
}

/** Adds a device under an id nobody holds; false when the id is taken (a concurrent link won it). */
export async function addDevice(deps: Deps, device: DeviceRecord): Promise<boolean> {
  return putIfAbsent(deps, 'devices', { ...device });
}

/** Writes a device whatever was there: a re-registration replaces the primary device. */
export async function putDevice(deps: Deps, device: DeviceRecord): Promise<void> {
  await deps.clients.db.send(new PutCommand({ TableName: tableName(deps, 'devices'), Item: device }));
}

/** Deletes the device; answers what it was, if there was one. */
export async function deleteDevice(deps: Deps, userId: string, deviceId: number): Promise<DeviceRecord | undefined> {
  const { Attributes } = await deps.clients.db.send(
    new DeleteCommand({ TableName: tableName(deps, 'devices'), Key: { userId, deviceId }, ReturnValues: 'ALL_OLD' }),
  );
  return Attributes as DeviceRecord | undefined;
}

type DeviceUpdate = Omit<UpdateCommandInput, 'TableName' | 'Key'>;

/** A conditional update of one device; its `Attributes`, or undefined when the condition failed. */
async function updateDevice(
  deps: Deps,
  userId: string,
  deviceId: number,
  update: DeviceUpdate,
): Promise<Record<string, unknown> | undefined> {
  const updated = await ifConditionHolds(
    deps.clients.db.send(new UpdateCommand({ TableName: tableName(deps, 'devices'), Key: { userId, deviceId }, ...update })),
  );
  return updated && (updated.Attributes ?? {});
}

/**
 * Makes the device addressable under the registration id of its uploaded identity. True when the device
 * has that registration id now (also when it had it already); false when it is gone or has another one.
 */
export async function setRegistrationId(deps: Deps, userId: string, deviceId: number, registrationId: number): Promise<boolean> {
  const updated = await updateDevice(deps, userId, deviceId, {
    UpdateExpression: 'SET registrationId = :registrationId',
    ConditionExpression: 'attribute_exists(userId) AND (attribute_not_exists(registrationId) OR registrationId = :registrationId)',
    ExpressionAttributeValues: { ':registrationId': registrationId },
  });
  return updated !== undefined;
}

/**
 * Gives an existing device its push registration, replacing any earlier one. Answers false when the
 * device does not exist (it was removed meanwhile), else the registration it replaced, if any.
 */
export async function setPush(
  deps: Deps,
  userId: string,
  deviceId: number,
  push: PushRegistration,
): Promise<{ stored: false } | { stored: true; replaced: PushRegistration | undefined }> {
  const old = await updateDevice(deps, userId, deviceId, {
    UpdateExpression: 'SET push = :push',
    ConditionExpression: 'attribute_exists(userId)',
    ExpressionAttributeValues: { ':push': push },
    ReturnValues: 'UPDATED_OLD',
  });
  return old ? { stored: true, replaced: old.push as PushRegistration | undefined } : { stored: false };
}

/**
 * Removes the device's push registration and answers it; with `only`, removes it only if it is still
 * that registration (a newer one of the same endpoint is kept). Undefined when nothing was removed.
 */
export async function removePush(
  deps: Deps,
  userId: string,
  deviceId: number,
  only?: Pick<PushRegistration, 'endpointArn' | 'registeredAt'>,
): Promise<PushRegistration | undefined> {
  const old = await updateDevice(deps, userId, deviceId, {
    UpdateExpression: 'REMOVE push',
    ConditionExpression: only
      ? 'push.endpointArn = :endpointArn AND push.registeredAt = :registeredAt'
      : 'attribute_exists(push)',
    ...(only ? { ExpressionAttributeValues: { ':endpointArn': only.endpointArn, ':registeredAt': only.registeredAt } } : {}),
    ReturnValues: 'UPDATED_OLD',
  });
  return old?.push as PushRegistration | undefined;
}

/**
 * Claims the right to wake the device: one conditional write, no read. Answers its push registration if
 * it has one and was not woken since `since` (epoch milliseconds), recording `now` as its last wake-up;
 * undefined otherwise, so that of many concurrent deliveries only one wakes it.
 */
export async function claimWakeUp(
  deps: Deps,
  userId: string,
  deviceId: number,
  since: number,
  now: number,
): Promise<PushRegistration | undefined> {
  const updated = await updateDevice(deps, userId, deviceId, {
    UpdateExpression: 'SET push.lastWokenAt = :now',
    // A device that connected since its last wake-up is due one at once: it was awake meanwhile.
    ConditionExpression:
      'attribute_exists(push) AND (attribute_not_exists(push.lastWokenAt) OR push.lastWokenAt < :since OR push.lastWokenAt < lastConnectedAt)',
    ExpressionAttributeValues: { ':now': now, ':since': since },
    ReturnValues: 'ALL_NEW',
  });
  return updated?.push as PushRegistration | undefined;
}

/**
 * The device connected: it may be live on `connection` (its route is then read by group fan-outs), and
 * it is awake, so its next offline message may wake it at once. False when the device is gone.
 */
export async function recordConnection(
  deps: Deps,
  userId: string,
  deviceId: number,
  connection: DeviceConnection & { readonly connectedAt: number },
): Promise<boolean> {
  const { connectedAt, ...stored } = connection;
  const updated = await updateDevice(deps, userId, deviceId, {
    UpdateExpression: 'SET lastConnectedAt = :connectedAt, #connection = :connection',
    ConditionExpression: 'attribute_exists(userId)',
    ExpressionAttributeNames: { '#connection': 'connection' },
    ExpressionAttributeValues: { ':connectedAt': connectedAt, ':connection': stored },
  });
  return updated !== undefined;
}

/** The device's connection closed: unless it has opened another since, it is offline. */
export async function forgetConnection(deps: Deps, userId: string, deviceId: number, connectionId: string): Promise<void> {
  await updateDevice(deps, userId, deviceId, {
    UpdateExpression: 'REMOVE #connection',
    ConditionExpression: '#connection.connectionId = :connectionId',
    ExpressionAttributeNames: { '#connection': 'connection' },
    ExpressionAttributeValues: { ':connectionId': connectionId },
  });
}
