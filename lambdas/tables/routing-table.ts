/** The `routing` table: which WebSocket connection each device holds now. */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tableName, type Deps } from '../runtime/deps';
import { ifConditionHolds } from './conditional-write';
import { batchGet } from './batch-requests';

export interface RouteRecord {
  readonly userId: string;
  readonly deviceId: number;
  readonly connectionId: string;
  /** Epoch milliseconds when the connection opened. */
  readonly connectedAt: number;
  /** Epoch seconds (the table's TTL attribute). Past it, the route is dead even if DynamoDB has not deleted it yet. */
  readonly expiresAt: number;
  /** The users whose presence the device watches through this connection (SUBSCRIBE_PRESENCE). */
  readonly watching?: readonly string[];
}

const isLive = (deps: Deps) => (route: RouteRecord) => route.expiresAt * 1000 > deps.now();

/** Points the device at its new connection; answers the route it replaces, if any was live. */
export async function putRoute(deps: Deps, route: RouteRecord): Promise<RouteRecord | undefined> {
  const { Attributes } = await deps.clients.db.send(
    new PutCommand({ TableName: tableName(deps, 'routing'), Item: route, ReturnValues: 'ALL_OLD' }),
  );
  const replaced = Attributes as RouteRecord | undefined;
  return replaced && isLive(deps)(replaced) ? replaced : undefined;
}

export async function getRoute(deps: Deps, userId: string, deviceId: number): Promise<RouteRecord | undefined> {
  const { Item } = await deps.clients.db.send(
    new GetCommand({ TableName: tableName(deps, 'routing'), Key: { userId, deviceId }, ConsistentRead: true }),
  );
  const route = Item as RouteRecord | undefined;
  return route && isLive(deps)(route) ? route : undefined;
}

/** The live routes of these devices, in batches (eventually consistent, as a fan-out may read). */
export async function routesOf(deps: Deps, devices: readonly { userId: string; deviceId: number }[]): Promise<RouteRecord[]> {
  const keys = devices.map(({ userId, deviceId }) => ({ userId, deviceId }));
  return (await batchGet<RouteRecord>(deps, 'routing', keys)).filter(isLive(deps));
}

/** The live routes of every device of a user, in one query. */
export async function listRoutes(deps: Deps, userId: string): Promise<RouteRecord[]> {
  const { Items } = await deps.clients.db.send(
    new QueryCommand({
      TableName: tableName(deps, 'routing'),
      KeyConditionExpression: 'userId = :u',
      ExpressionAttributeValues: { ':u': userId },
    }),
  );
  return ((Items ?? []) as RouteRecord[]).filter(isLive(deps));
}

/**
 * Extends the route's life if it still points at this connection, or re-creates it if it is gone (the
 * connection is evidently alive); false if the device has moved to another connection.
 */
export async function refreshRoute(deps: Deps, route: RouteRecord): Promise<boolean> {
  const written = await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'routing'),
        Key: { userId: route.userId, deviceId: route.deviceId },
        UpdateExpression: 'SET connectionId = :c, connectedAt = :at, expiresAt = :exp',
        ConditionExpression: 'attribute_not_exists(userId) OR connectionId = :c OR expiresAt < :nowSeconds',
        ExpressionAttributeValues: {
          ':c': route.connectionId,
          ':at': route.connectedAt,
          ':exp': route.expiresAt,
          ':nowSeconds': Math.floor(deps.now() / 1000),
        },
      }),
    ),
  );
  return written !== undefined;
}

/**
 * Deletes the route only while it still points at this connection: the late `$disconnect` of an old
 * connection must not remove the route of the device's newer one.
 */
export async function deleteRoute(deps: Deps, userId: string, deviceId: number, connectionId: string): Promise<void> {
  await ifConditionHolds(
    deps.clients.db.send(
      new DeleteCommand({
        TableName: tableName(deps, 'routing'),
        Key: { userId, deviceId },
        ConditionExpression: 'connectionId = :c',
        ExpressionAttributeValues: { ':c': connectionId },
      }),
    ),
  );
}

/**
 * Records which users the device watches through this connection, on its route; answers the users it
 * watched before, or undefined when the route no longer points at this connection.
 */
export async function setWatchedUsers(
  deps: Deps,
  userId: string,
  deviceId: number,
  connectionId: string,
  watched: readonly string[],
): Promise<string[] | undefined> {
  const updated = await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'routing'),
        Key: { userId, deviceId },
        UpdateExpression: 'SET watching = :w',
        ConditionExpression: 'connectionId = :c',
        ExpressionAttributeValues: { ':w': [...watched], ':c': connectionId },
        ReturnValues: 'UPDATED_OLD',
      }),
    ),
  );
  return updated && ((updated.Attributes?.watching as string[] | undefined) ?? []);
}
