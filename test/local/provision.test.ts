import { tables } from '../../lambdas/resources';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
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
    await expect(clients.s3.send(new HeadBucketCommand({ Bucket: 'parley-local-media' }))).resolves.toBeDefined();
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

  it('names by default in kebab case, which buckets require', () => {
    expect(localResourceName('linkTokens', 'table')).toBe('parley-local-link-tokens');
  });
});
