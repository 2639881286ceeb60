import { tables } from '../../lambdas/resources';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createClients, type Clients } from '../../lambdas/runtime/clients';
import { startAwsEmulators, type AwsEmulators } from '../../local/aws-emulators';
import { localResourceName, provisionResources, type ResourceDefinitions } from '../../local/provision';

describe('provisionResources', () => {
  let emulators: AwsEmulators;
  let clients: Clients;

  beforeAll(async () => {
    emulators = await startAwsEmulators({ log: () => undefined });
    const { endpoints, credentials } = emulators;
    clients = createClients({ region: 'us-east-1', endpoints, credentials });
  });
  afterAll(async () => {
    [clients.db, clients.kinesis, clients.s3].forEach((client) => client.destroy());
    await emulators.stop();
  });

  it('creates every table, stream and bucket of lambdas/resources.ts and maps each envVar to its name', async () => {
    const provisioned = await provisionResources(clients);

    expect(Object.keys(provisioned.tables).sort()).toEqual(Object.keys(tables).sort());
    expect(provisioned.tables).toMatchObject({
      verificationCodes: 'parley-local-verification-codes',
      linkTokens: 'parley-local-link-tokens',
    });
    expect(provisioned.environment).toMatchObject({
      ACCOUNTS_TABLE: 'parley-local-accounts',
      VERIFICATION_CODES_TABLE: 'parley-local-verification-codes',
      MESSAGE_STREAM: 'parley-local-messages',
      GROUP_MESSAGE_STREAM: 'parley-local-group-messages',
      MEDIA_BUCKET: 'parley-local-media',
    });
    const { Table } = await clients.db.send(new DescribeTableCommand({ TableName: 'parley-local-devices' }));
    expect(Table).toMatchObject({
      TableStatus: 'ACTIVE',
      BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
      KeySchema: [
        { AttributeName: 'userId', KeyType: 'HASH' },
        { AttributeName: 'deviceId', KeyType: 'RANGE' },
      ],
    });
    const { StreamDescriptionSummary } = await clients.kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: 'parley-local-messages' }),
    );
    expect(StreamDescriptionSummary).toMatchObject({ StreamStatus: 'ACTIVE', OpenShardCount: 4 });
    const groups = await clients.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'parley-local-group-messages' }));
    expect(groups.StreamDescriptionSummary).toMatchObject({ StreamStatus: 'ACTIVE', OpenShardCount: 2 });
    await expect(clients.s3.send(new HeadBucketCommand({ Bucket: 'parley-local-media' }))).resolves.toBeDefined();
  });

  it('creates the local secondary indexes of the definitions, all attributes projected', async () => {
    const provisioned = await provisionResources(clients);
    const { deviceQueues } = tables;

    const { Table } = await clients.db.send(new DescribeTableCommand({ TableName: provisioned.tables.deviceQueues }));

    expect(Table?.LocalSecondaryIndexes).toHaveLength(deviceQueues.localIndexes.length);
    expect(Table?.LocalSecondaryIndexes).toEqual(
      deviceQueues.localIndexes.map((index) =>
        expect.objectContaining({
          IndexName: index.indexName,
          KeySchema: [
            { AttributeName: deviceQueues.partitionKey.name, KeyType: 'HASH' },
            { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        }),
      ),
    );
    expect(Table?.LocalSecondaryIndexes?.[0]?.IndexName).toBe('byMessage');
    expect(Table?.AttributeDefinitions).toEqual(
      expect.arrayContaining([{ AttributeName: 'msgId', AttributeType: 'S' }]),
    );
  });

  it('answers a Query on a local index with the whole items, in the index’s order', async () => {
    const { tables: names } = await provisionResources(clients);
    const TableName = names.deviceQueues;
    const device = 'u-lsi#1';
    const queued = [
      { device, position: '0000000000001#m-c', msgId: 'm-c', body: 'third by id' },
      { device, position: '0000000000002#m-a', msgId: 'm-a', body: 'first by id' },
      { device, position: '0000000000003#m-b', msgId: 'm-b', body: 'second by id' },
      { device: 'u-lsi#2', position: '0000000000001#m-a', msgId: 'm-a', body: 'another device' },
    ];
    for (const Item of queued) await clients.db.send(new PutCommand({ TableName, Item }));

    const one = await clients.db.send(
      new QueryCommand({
        TableName,
        IndexName: 'byMessage',
        KeyConditionExpression: 'device = :device AND msgId = :msgId',
        ExpressionAttributeValues: { ':device': device, ':msgId': 'm-b' },
        ConsistentRead: true,
      }),
    );
    expect(one.Items).toEqual([queued[2]]);

    const all = await clients.db.send(
      new QueryCommand({
        TableName,
        IndexName: 'byMessage',
        KeyConditionExpression: 'device = :device',
        ExpressionAttributeValues: { ':device': device },
      }),
    );
    expect(all.Items?.map((item) => item.msgId)).toEqual(['m-a', 'm-b', 'm-c']);
    expect(all.Items?.[0]).toEqual(queued[1]);
  });

  it('is harmless when run again: same names, and the data already there is kept', async () => {
    const first = await provisionResources(clients);
    const Key = { phoneNumber: '+15550002222' };
    await clients.db.send(new PutCommand({ TableName: first.tables.accounts, Item: { ...Key, userId: 'u1' } }));

    const again = await provisionResources(clients);

    expect(again).toEqual(first);
    const { Item } = await clients.db.send(new GetCommand({ TableName: again.tables.accounts, Key }));
    expect(Item).toEqual({ ...Key, userId: 'u1' });
  });

  it('names resources with the naming function it is given', async () => {
    const definitions: ResourceDefinitions<'notes', never, 'files'> = {
      tables: { notes: { partitionKey: { name: 'id', type: 'S' }, envVar: 'NOTES_TABLE' } },
      streams: {},
      buckets: { files: { envVar: 'FILES_BUCKET' } },
    };

    const provisioned = await provisionResources(clients, definitions, (id, kind) => `test-${kind}-${id}`);

    expect(provisioned.environment).toEqual({ NOTES_TABLE: 'test-table-notes', FILES_BUCKET: 'test-bucket-files' });
    await expect(clients.db.send(new DescribeTableCommand({ TableName: 'test-table-notes' }))).resolves.toBeDefined();
  });

  it('refuses a kept table whose keys no longer match its definition', async () => {
    const original: ResourceDefinitions<'drifting', never, never> = {
      tables: { drifting: { partitionKey: { name: 'id', type: 'S' }, envVar: 'DRIFTING_TABLE' } },
      streams: {},
      buckets: {},
    };
    const changed: ResourceDefinitions<'drifting', never, never> = {
      ...original,
      tables: { drifting: { partitionKey: { name: 'id', type: 'N' }, envVar: 'DRIFTING_TABLE' } },
    };
    await provisionResources(clients, original);

    await expect(provisionResources(clients, changed)).rejects.toThrow(
      'Table parley-local-drifting exists with keys id:S HASH, not id:N HASH',
    );
  });

  it('refuses a kept table whose local indexes no longer match its definition', async () => {
    const keys = { partitionKey: { name: 'owner', type: 'S' }, sortKey: { name: 'at', type: 'N' } } as const;
    const original: ResourceDefinitions<'reindexed', never, never> = {
      tables: { reindexed: { ...keys, envVar: 'REINDEXED_TABLE' } },
      streams: {},
      buckets: {},
    };
    const changed: ResourceDefinitions<'reindexed', never, never> = {
      ...original,
      tables: {
        reindexed: {
          ...keys,
          localIndexes: [{ indexName: 'byName', sortKey: { name: 'name', type: 'S' } }],
          envVar: 'REINDEXED_TABLE',
        },
      },
    };
    await provisionResources(clients, original);

    await expect(provisionResources(clients, changed)).rejects.toThrow(
      'Table parley-local-reindexed exists with keys owner:S HASH, at:N RANGE, ' +
        'not owner:S HASH, at:N RANGE; index byName: owner:S HASH, name:S RANGE (ALL)',
    );
  });

  it('names by default in kebab case, which buckets require', () => {
    expect(localResourceName('linkTokens', 'table')).toBe('parley-local-link-tokens');
  });
});
