import { functions, type FunctionDefinition, type FunctionId } from '../../lambdas/functions';
import { actionsOf, logicalIdOf, referencedLogicalIds, resourcesOf, statementsOfRole, synthParley, type Synthesized } from './fixture';

describe('media', () => {
  let built: Synthesized;
  let mediaBucket: string;
  beforeAll(() => {
    built = synthParley();
    mediaBucket = logicalIdOf(built.stack.parley.buckets.media);
  });

  describe('bucket', () => {
    it('is private, encrypted and blocks every kind of public access', () => {
      expect(resourcesOf(built.template, 'AWS::S3::Bucket')[mediaBucket]!.Properties).toMatchObject({
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      });
    });

    it('refuses every request that does not come over TLS', () => {
      const policies = Object.values(resourcesOf<{ Bucket: unknown; PolicyDocument: { Statement: any[] } }>(built.template, 'AWS::S3::BucketPolicy')).filter(
        (policy) => referencedLogicalIds(policy.Properties.Bucket).has(mediaBucket),
      );
      expect(policies).toHaveLength(1);
      expect(policies[0]!.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    });

    it('deletes blobs after 30 days and abandoned multipart uploads after a day', () => {
      expect(resourcesOf(built.template, 'AWS::S3::Bucket')[mediaBucket]!.Properties).toMatchObject({
        LifecycleConfiguration: { Rules: [{ Status: 'Enabled', ExpirationInDays: 30, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }] },
      });
    });

    it('lets browsers PUT with the signed checksum and GET, and read the ETag of a part', () => {
      expect(resourcesOf(built.template, 'AWS::S3::Bucket')[mediaBucket]!.Properties).toMatchObject({
        CorsConfiguration: {
          CorsRules: [
            {
              AllowedMethods: ['PUT', 'GET', 'HEAD'],
              AllowedOrigins: ['*'],
              AllowedHeaders: expect.arrayContaining(['x-amz-checksum-sha256']),
              ExposedHeaders: expect.arrayContaining(['etag']),
            },
          ],
        },
      });
    });

    it('is the only bucket browsers reach', () => {
      const withCors = Object.entries(resourcesOf<{ CorsConfiguration?: unknown }>(built.template, 'AWS::S3::Bucket')).filter(([, b]) => b.Properties.CorsConfiguration);
      expect(withCors.map(([id]) => id)).toEqual([mediaBucket]);
    });
  });

  describe('functions', () => {
    const presigning = (Object.entries(functions) as [FunctionId, FunctionDefinition][]).filter(([, d]) => d.uploadsTo?.includes('media'));

    it('are the upload, multipart (parts, complete) and download functions', () => {
      expect(presigning.map(([id]) => id).sort()).toEqual(['completeMediaUpload', 'createMediaUpload', 'getMediaDownload', 'requestMediaParts']);
    });

    it('only the multipart functions and the one that starts uploads reach the mediaUploads table, which expires its items', () => {
      const uploadsTable = logicalIdOf(built.stack.parley.tables.mediaUploads);
      expect(resourcesOf(built.template, 'AWS::DynamoDB::GlobalTable')[uploadsTable]!.Properties).toMatchObject({
        KeySchema: [{ AttributeName: 'mediaId', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      });
      const reaching = (Object.keys(functions) as FunctionId[]).filter((id) =>
        statementsOfRole(built.template, logicalIdOf(built.stack.parley.functions[id].role!)).some((statement) => referencedLogicalIds(statement.Resource).has(uploadsTable)),
      );
      expect(reaching.sort()).toEqual(['completeMediaUpload', 'createMediaUpload', 'requestMediaParts']);
    });

    it.each(presigning.map(([id]) => id))('%s may reach objects under media/ only, and nothing of the bucket itself', (functionId) => {
      const statements = statementsOfRole(built.template, logicalIdOf(built.stack.parley.functions[functionId].role!));
      const onBucket = statements.filter((statement) => referencedLogicalIds(statement.Resource).has(mediaBucket));
      expect(onBucket).toHaveLength(1);
      expect(actionsOf(onBucket[0]!).sort()).toEqual(['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject']);
      expect(onBucket[0]!.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [mediaBucket, 'Arn'] }, '/media/*']] });
      expect(statements.flatMap(actionsOf).filter((action) => action.startsWith('s3:List') && action !== 's3:ListMultipartUploadParts')).toEqual([]);
    });

    it('no other function may touch the media bucket', () => {
      const others = (Object.keys(functions) as FunctionId[]).filter((id) => !presigning.some(([p]) => p === id));
      for (const functionId of others) {
        const statements = statementsOfRole(built.template, logicalIdOf(built.stack.parley.functions[functionId].role!));
        expect(statements.filter((statement) => referencedLogicalIds(statement.Resource).has(mediaBucket))).toEqual([]);
      }
    });
  });
});
