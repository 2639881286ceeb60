import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type KeySchemaElement,
  type LocalSecondaryIndex,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { KeyDefinition, TableDefinition } from '../../lambdas/resources';
import { waitUntil } from '../aws/wait';

/** What CreateTable is given from a definition, and what DescribeTable of a kept table is compared with. */
type TableSchema = Required<Pick<CreateTableCommandInput, 'KeySchema' | 'AttributeDefinitions'>> &
  Pick<CreateTableCommandInput, 'LocalSecondaryIndexes'>;

/**
 * Makes sure the table exists as defined: on-demand, with the defined keys, local secondary indexes and
 * TTL attribute, and ACTIVE. A table kept from an earlier run is reused if its keys and indexes still
 * match, and refused if they do not.
 */
export async function ensureTable(
  db: DynamoDBDocumentClient,
  tableName: string,
  definition: TableDefinition,
): Promise<void> {
  const schema = tableSchema(definition);
  const existing = await describeTable(db, tableName);
  if (existing) {
    const found = describeSchema(existing);
    const wanted = describeSchema(schema);
    if (found !== wanted) {
      throw new Error(`Table ${tableName} exists with keys ${found}, not ${wanted}: remove it or its data directory`);
    }
  } else {
    await createTable(db, tableName, schema);
  }
  const isActive = async () => (await describeTable(db, tableName))?.TableStatus === 'ACTIVE';
  await waitUntil(isActive, `table ${tableName} to be ACTIVE`);
  if (definition.timeToLiveAttribute) await enableTimeToLive(db, tableName, definition.timeToLiveAttribute);
}

function tableSchema(definition: TableDefinition): TableSchema {
  const localIndexes = definition.localIndexes ?? [];
  const keyAttributes = [
    definition.partitionKey,
    ...(definition.sortKey ? [definition.sortKey] : []),
    ...localIndexes.map((index) => index.sortKey),
  ];
  return {
    KeySchema: keySchema(definition.partitionKey, definition.sortKey),
    // Each key attribute once, even where an index sorts on an attribute that is already a key.
    AttributeDefinitions: [...new Map(keyAttributes.map((key) => [key.name, key])).values()].map(
      (key): AttributeDefinition => ({ AttributeName: key.name, AttributeType: key.type }),
    ),
    ...(localIndexes.length > 0
      ? {
          LocalSecondaryIndexes: localIndexes.map(
            (index): LocalSecondaryIndex => ({
              IndexName: index.indexName,
              KeySchema: keySchema(definition.partitionKey, index.sortKey),
              Projection: { ProjectionType: 'ALL' },
            }),
          ),
        }
      : {}),
  };
}

function keySchema(partitionKey: KeyDefinition, sortKey: KeyDefinition | undefined): KeySchemaElement[] {
  return [
    { AttributeName: partitionKey.name, KeyType: 'HASH' },
    ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' as const }] : []),
  ];
}

/**
 * `userId:S HASH, deviceId:N RANGE`, then each local index by name, e.g.
 * `; index byMessage: device:S HASH, msgId:S RANGE (ALL)`: comparable, and readable in an error.
 */
function describeSchema(table: TableSchema | TableDescription): string {
  const attributes = table.AttributeDefinitions ?? [];
  const typeOf = (name?: string) => attributes.find((attribute) => attribute.AttributeName === name)?.AttributeType;
  const describeKeys = (keys: readonly KeySchemaElement[] | undefined) =>
    (keys ?? []).map((key) => `${key.AttributeName}:${typeOf(key.AttributeName)} ${key.KeyType}`).join(', ');
  const indexes = [...(table.LocalSecondaryIndexes ?? [])]
    .sort((a, b) => String(a.IndexName).localeCompare(String(b.IndexName)))
    .map((index) => `; index ${index.IndexName}: ${describeKeys(index.KeySchema)} (${index.Projection?.ProjectionType})`);
  return describeKeys(table.KeySchema) + indexes.join('');
}

async function describeTable(db: DynamoDBDocumentClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await db.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

async function createTable(db: DynamoDBDocumentClient, tableName: string, schema: TableSchema): Promise<void> {
  try {
    await db.send(new CreateTableCommand({ TableName: tableName, BillingMode: 'PAY_PER_REQUEST', ...schema }));
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
