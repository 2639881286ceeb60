import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { functions, type FunctionDefinition } from '../lambdas/functions';
import {
  buckets,
  streams,
  tables,
  type BucketId,
  type KeyDefinition,
  type LocalIndexDefinition,
  type StreamId,
  type TableId,
} from '../lambdas/resources';
import { constructId, entriesOf } from './definitions';

export interface ParleyStorageProps {
  /**
   * What happens to the tables, the stream and the buckets when they leave the stack or the stack is deleted.
   * With `DESTROY` the buckets are emptied first, so that a development stack can be torn down.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Shards of each message stream (`messages`, `groupMessages`). A number makes each provisioned with that many shards.
   * @default - on-demand streams, which scale their shards by themselves
   */
  readonly messageStreamShards?: number;
  /**
   * Whether the tables marked `irreplaceable` in `lambdas/resources.ts` (accounts, devices, device keys,
   * one-time prekeys, device queues) have DynamoDB deletion protection: neither a stack update that would
   * replace or remove them nor a console click deletes them until it is turned off.
   * @default true
   */
  readonly deletionProtection?: boolean;
}

/**
 * How long the media bucket keeps an object: the 30 days the server keeps an undelivered message, after
 * which no message points at it any more.
 */
export const MEDIA_EXPIRATION = Duration.days(buckets.media.expirationDays);

/**
 * CORS of a bucket browsers reach with presigned URLs: PUT with the signed length and checksum, GET and
 * HEAD, from any origin (the signature, not the origin, is the credential), and the ETag a multipart upload's
 * parts must be completed with.
 */
const BROWSER_PRESIGNED_ACCESS: s3.CorsRule = {
  allowedMethods: [s3.HttpMethods.PUT, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
  allowedOrigins: ['*'],
  allowedHeaders: ['content-type', 'x-amz-checksum-sha256', 'range'],
  exposedHeaders: ['etag', 'content-length', 'content-range'],
  maxAge: 3600,
};

/**
 * Why a bucket has no server access logs (cdk-nag AwsSolutions-S1): logs would need a second, ever-growing
 * bucket, and would record metadata a relay that forgets messages should not keep.
 */
const WHY_NO_ACCESS_LOGS: Readonly<Record<BucketId, string>> = {
  media:
    'Objects are client-encrypted ciphertext that devices upload and download only through presigned URLs ' +
    'the media functions issue (5 minutes, one key, one length and SHA-256); server access logs would need ' +
    'a second, ever-growing bucket and would record which addresses fetched which blob, the who-talks-to-whom ' +
    'metadata a relay that forgets messages after 30 days should not keep.',
  failedDeliveries:
    'Only Lambda (writing batches the fanout gave up on) and an operator running the redrive command use ' +
    'this bucket, both through IAM roles; access logs would need a second, ever-growing bucket for no reader. ' +
    'An audit that needs object-level records turns on CloudTrail S3 data events for this one bucket.',
};

/**
 * The tables whose TTL deletions some function of `lambdas/functions.ts` is invoked with (its `onExpiry`):
 * these, and only these, get a DynamoDB stream, one that carries each deleted item's old image.
 */
export const EXPIRY_STREAM_TABLES: ReadonlySet<TableId> = new Set(
  Object.values(functions as Record<string, FunctionDefinition>).flatMap((definition) =>
    definition.onExpiry ? [definition.onExpiry] : [],
  ),
);

/**
 * The stateful resources of Parley, built from `lambdas/resources.ts`: one on-demand DynamoDB table per
 * table definition (with its local secondary indexes, all attributes projected; with a stream of old images
 * where a function's `onExpiry` names it), the Kinesis message stream, and the media and failed-deliveries
 * buckets (private, encrypted, TLS-only, each object deleted after its definition's `expirationDays`).
 *
 * @example
 * const storage = new ParleyStorage(this, 'Storage', { removalPolicy: RemovalPolicy.DESTROY });
 * storage.tables.routing.grantReadWriteData(myFunction);
 */
export class ParleyStorage extends Construct {
  /** One table per entry of `tables` in `lambdas/resources.ts`. */
  public readonly tables: Readonly<Record<TableId, dynamodb.TableV2>>;
  /** One stream per entry of `streams`. */
  public readonly streams: Readonly<Record<StreamId, kinesis.Stream>>;
  /** One bucket per entry of `buckets`. */
  public readonly buckets: Readonly<Record<BucketId, s3.Bucket>>;

  constructor(scope: Construct, id: string, props: ParleyStorageProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const deletionProtection = props.deletionProtection ?? true;

    this.tables = Object.fromEntries(
      entriesOf(tables).map(([tableId, definition]) => {
        const sortKey: KeyDefinition | undefined = 'sortKey' in definition ? definition.sortKey : undefined;
        const timeToLiveAttribute: string | undefined =
          'timeToLiveAttribute' in definition ? definition.timeToLiveAttribute : undefined;
        const localIndexes: readonly LocalIndexDefinition[] = 'localIndexes' in definition ? definition.localIndexes : [];
        const irreplaceable = 'irreplaceable' in definition && definition.irreplaceable;
        const table = new dynamodb.TableV2(this, `${constructId(tableId)}Table`, {
          partitionKey: attribute(definition.partitionKey),
          ...(sortKey ? { sortKey: attribute(sortKey) } : {}),
          ...(timeToLiveAttribute ? { timeToLiveAttribute } : {}),
          ...(localIndexes.length > 0
            ? {
                localSecondaryIndexes: localIndexes.map(({ indexName, sortKey: indexSortKey }) => ({
                  indexName,
                  sortKey: attribute(indexSortKey),
                  projectionType: dynamodb.ProjectionType.ALL,
                })),
              }
            : {}),
          ...(EXPIRY_STREAM_TABLES.has(tableId) ? { dynamoStream: dynamodb.StreamViewType.OLD_IMAGE } : {}),
          billing: dynamodb.Billing.onDemand(),
          pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
          encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
          ...(irreplaceable && deletionProtection ? { deletionProtection: true } : {}),
          removalPolicy,
        });
        return [tableId, table];
      }),
    ) as Record<TableId, dynamodb.TableV2>;

    this.streams = Object.fromEntries(
      entriesOf(streams).map(([streamId]) => {
        const stream = new kinesis.Stream(this, `${constructId(streamId)}Stream`, {
          ...(props.messageStreamShards === undefined
            ? { streamMode: kinesis.StreamMode.ON_DEMAND }
            : { streamMode: kinesis.StreamMode.PROVISIONED, shardCount: props.messageStreamShards }),
          encryption: kinesis.StreamEncryption.MANAGED,
          retentionPeriod: Duration.hours(24),
          removalPolicy,
        });
        return [streamId, stream];
      }),
    ) as Record<StreamId, kinesis.Stream>;

    const autoDeleteObjects = removalPolicy === RemovalPolicy.DESTROY;
    this.buckets = Object.fromEntries(
      entriesOf(buckets).map(([bucketId, definition]) => {
        const bucket = new s3.Bucket(this, `${constructId(bucketId)}Bucket`, {
          blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
          objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
          encryption: s3.BucketEncryption.S3_MANAGED,
          enforceSSL: true,
          versioned: false,
          lifecycleRules: [
            {
              id: `Expire${constructId(bucketId)}`,
              expiration: Duration.days(definition.expirationDays),
              abortIncompleteMultipartUploadAfter: Duration.days(1),
            },
          ],
          ...('browserAccess' in definition && definition.browserAccess ? { cors: [BROWSER_PRESIGNED_ACCESS] } : {}),
          removalPolicy,
          autoDeleteObjects,
        });
        Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason: WHY_NO_ACCESS_LOGS[bucketId] });
        return [bucketId, bucket];
      }),
    ) as Record<BucketId, s3.Bucket>;

  }
}

function attribute(key: KeyDefinition): dynamodb.Attribute {
  return {
    name: key.name,
    type: key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
  };
}
