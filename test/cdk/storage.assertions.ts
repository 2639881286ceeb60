import { Match } from 'aws-cdk-lib/assertions';
import { functions, type FunctionDefinition } from '../../lambdas/functions';
import { buckets, streams, tables, type BucketId, type TableDefinition, type TableId } from '../../lambdas/resources';
import { QUEUE_TTL_MS } from '../../lambdas/tables/device-queues';
import { denyWithoutTls, logicalIdOf, resourcesOf, synthParley, type Synthesized } from './fixture';

const DAY = 24 * 60 * 60 * 1000;

describe('storage', () => {
  let built: Synthesized;
  beforeAll(() => {
    built = synthParley();
  });

  describe('tables', () => {
    it.each(Object.entries(tables) as [keyof typeof tables, TableDefinition][])(
      '%s has the keys, local indexes and time-to-live attribute of its definition',
      (tableId, definition) => {
        const resource = built.template.toJSON().Resources[logicalIdOf(built.stack.parley.tables[tableId])];
        const keys = [definition.partitionKey, ...(definition.sortKey ? [definition.sortKey] : [])];
        const indexes = definition.localIndexes ?? [];
        expect(resource.Properties.KeySchema).toEqual(
          keys.map((key, i) => ({ AttributeName: key.name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
        );
        expect(resource.Properties.AttributeDefinitions).toEqual(
          [...keys, ...indexes.map((index) => index.sortKey)].map((key) => ({
            AttributeName: key.name,
            AttributeType: key.type,
          })),
        );
        expect(resource.Properties.LocalSecondaryIndexes).toEqual(
          indexes.length === 0
            ? undefined
            : indexes.map((index) => ({
                IndexName: index.indexName,
                KeySchema: [
                  { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
                  { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
                ],
                Projection: { ProjectionType: 'ALL' },
              })),
        );
        expect(resource.Properties.TimeToLiveSpecification).toEqual(
          definition.timeToLiveAttribute ? { AttributeName: definition.timeToLiveAttribute, Enabled: true } : undefined,
        );
      },
    );

    it('index each device queue by message id too, projecting every attribute', () => {
      built.template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        KeySchema: [
          { AttributeName: 'device', KeyType: 'HASH' },
          { AttributeName: 'position', KeyType: 'RANGE' },
        ],
        LocalSecondaryIndexes: [
          {
            IndexName: 'byMessage',
            KeySchema: [
              { AttributeName: 'device', KeyType: 'HASH' },
              { AttributeName: 'msgId', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
        AttributeDefinitions: Match.arrayWith([{ AttributeName: 'msgId', AttributeType: 'S' }]),
      });
    });

    describe('DynamoDB streams', () => {
      const expiryTables = new Set(
        (Object.values(functions) as FunctionDefinition[]).flatMap((definition) => (definition.onExpiry ? [definition.onExpiry] : [])),
      );
      const streamOf = (tableId: TableId): unknown =>
        built.template.toJSON().Resources[logicalIdOf(built.stack.parley.tables[tableId])].Properties.StreamSpecification;

      it('are on the device queues, whose TTL deletions queueExpiry is invoked with', () => {
        expect(expiryTables).toContain('deviceQueues');
        expect(streamOf('deviceQueues')).toEqual({ StreamViewType: 'OLD_IMAGE' });
      });

      it.each(Object.keys(tables) as TableId[])('%s has an old-image stream only if some function’s onExpiry names it', (tableId) => {
        expect(streamOf(tableId)).toEqual(expiryTables.has(tableId) ? { StreamViewType: 'OLD_IMAGE' } : undefined);
      });
    });

    it('are exactly the tables of the definitions', () => {
      built.template.resourceCountIs('AWS::DynamoDB::GlobalTable', Object.keys(tables).length);
    });

    it('are all on demand, with point-in-time recovery and AWS-managed encryption, and retained', () => {
      built.template.allResources('AWS::DynamoDB::GlobalTable', {
        Properties: Match.objectLike({
          BillingMode: 'PAY_PER_REQUEST',
          Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
          SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
        }),
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    });
  });

  describe('message streams', () => {
    it('are one on-demand, KMS-encrypted, retained stream per definition: the 1:1 conversations\' and the groups\'', () => {
      expect(Object.keys(streams).sort()).toEqual(['groupMessages', 'messages']);
      built.template.resourceCountIs('AWS::Kinesis::Stream', Object.keys(streams).length);
      built.template.allResources('AWS::Kinesis::Stream', {
        Properties: Match.objectLike({
          StreamModeDetails: { StreamMode: 'ON_DEMAND' },
          StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
          ShardCount: Match.absent(),
          RetentionPeriodHours: 24,
        }),
        DeletionPolicy: 'Retain',
      });
    });

    it('are each provisioned with the given shards when parley:messageStreamShards is set', () => {
      const provisioned = synthParley({ 'parley:messageStreamShards': '4' });
      provisioned.template.resourceCountIs('AWS::Kinesis::Stream', Object.keys(streams).length);
      provisioned.template.allResourcesProperties('AWS::Kinesis::Stream', {
        StreamModeDetails: { StreamMode: 'PROVISIONED' },
        ShardCount: 4,
      });
    });
  });

  describe.each(Object.keys(buckets) as BucketId[])('%s bucket', (bucketId) => {
    const bucketOf = () => resourcesOf(built.template, 'AWS::S3::Bucket')[logicalIdOf(built.stack.parley.buckets[bucketId])]!;

    it(`is private, S3-encrypted, unversioned and forgets objects after ${buckets[bucketId].expirationDays} days`, () => {
      built.template.resourceCountIs('AWS::S3::Bucket', Object.keys(buckets).length);
      expect(bucketOf()).toMatchObject({
        Properties: {
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
          },
          LifecycleConfiguration: {
            Rules: expect.arrayContaining([expect.objectContaining({ ExpirationInDays: buckets[bucketId].expirationDays, Status: 'Enabled' })]),
          },
          OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        },
        DeletionPolicy: 'Retain',
      });
      expect(bucketOf().Properties).not.toHaveProperty('VersioningConfiguration');
    });

    it('refuses every request not made over TLS', () => {
      built.template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: logicalIdOf(built.stack.parley.buckets[bucketId]) },
        PolicyDocument: {
          Statement: Match.arrayWith([denyWithoutTls('s3:*')]),
        },
      });
    });
  });

  it('keeps a failed delivery at least as long as a message may wait in a queue', () => {
    expect(buckets.failedDeliveries.expirationDays * DAY).toBeGreaterThan(QUEUE_TTL_MS);
  });

  describe('with parley:removalPolicy destroy', () => {
    let destroyed: Synthesized;
    beforeAll(() => {
      destroyed = synthParley({ 'parley:removalPolicy': 'destroy' });
    });

    it('deletes tables, stream, bucket and log groups with the stack', () => {
      for (const type of ['AWS::DynamoDB::GlobalTable', 'AWS::Kinesis::Stream', 'AWS::S3::Bucket', 'AWS::Logs::LogGroup']) {
        destroyed.template.allResources(type, { DeletionPolicy: 'Delete' });
      }
    });

    it('empties the buckets first, so that the delete succeeds', () => {
      destroyed.template.resourceCountIs('Custom::S3AutoDeleteObjects', Object.keys(buckets).length);
    });
  });
});
