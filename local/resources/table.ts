import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type KeySchemaElement,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TableDefinition } from '../../lambdas/resources';
import { waitUntil } from '../aws/wait';

/**
 * Makes sure the table exists as defined: on-demand, with the defined keys and TTL attribute, and ACTIVE.
 * A table kept from an earlier run is reused if its keys still match, and refused if they do not.
 */
export async function ensureTable(
  db: DynamoDBDocumentClient,
  tableName: string,
  definition: TableDefinition,
): Promise<void> {
  const keys = keySchema(definition);
  const existing = await describeTable(db, tableName);
  if (existing) {
    const found = describeKeys(existing.KeySchema ?? [], existing.AttributeDefinitions ?? []);
    const wanted = describeKeys(keys.KeySchema, keys.AttributeDefinitions);
    if (found !== wanted) {
      throw new Error(`Table ${tableName} exists with keys ${found}, not ${wanted}: remove it or its data directory`);
    }
  } else {
    await createTable(db, tableName, keys);
  }
  const isActive = async () => (await describeTable(db, tableName))?.TableStatus === 'ACTIVE';
  await waitUntil(isActive, `table ${tableName} to be ACTIVE`);
  if (definition.timeToLiveAttribute) await enableTimeToLive(db, tableName, definition.timeToLiveAttribute);
}

function keySchema(definition: TableDefinition) {
  const keys = [
    { key: definition.partitionKey, type: 'HASH' as const },
    ...(definition.sortKey ? [{ key: definition.sortKey, type: 'RANGE' as const }] : []),
  ];
  return {
    KeySchema: keys.map(({ key, type }): KeySchemaElement => ({ AttributeName: key.name, KeyType: type })),
    AttributeDefinitions: keys.map(
      ({ key }): AttributeDefinition => ({ AttributeName: key.name, AttributeType: key.type }),
    ),
  };
}

/** `userId:S HASH, deviceId:N RANGE`: comparable, and readable in an error. */
function describeKeys(keySchema: readonly KeySchemaElement[], attributes: readonly AttributeDefinition[]): string {
  const typeOf = (name?: string) => attributes.find((attribute) => attribute.AttributeName === name)?.AttributeType;
  return keySchema.map((key) => `${key.AttributeName}:${typeOf(key.AttributeName)} ${key.KeyType}`).join(', ');
}

async function describeTable(db: DynamoDBDocumentClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await db.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

async function createTable(
  db: DynamoDBDocumentClient,
  tableName: string,
  keys: ReturnType<typeof keySchema>,
): Promise<void> {
  try {
    await db.send(new CreateTableCommand({ TableName: tableName, BillingMode: 'PAY_PER_REQUEST', ...keys }));
  } catch (error) {
    // Another provisioning run created it meanwhile; its keys came from the same definition.
    if ((error as Error).name !== 'ResourceInUseException') throw error;
  }
}

async function enableTimeToLive(db: DynamoDBDocumentClient, tableName: string, attributeName: string): Promise<void> {
  const { TimeToLiveDescription: current } = await db.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const enabled = current?.TimeToLiveStatus === 'ENABLED' || current?.TimeToLiveStatus === 'ENABLING';
  if (enabled && current?.AttributeName === attributeName) return;
  try {
    const specification = { AttributeName: attributeName, Enabled: true };
    await db.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: specification }));
  } catch (error) {
    // dynalite has no TTL at all; the local TTL sweeper deletes expired items in its place.
    if ((error as Error).name !== 'UnknownOperationException') throw error;
  }
}
