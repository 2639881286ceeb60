import * as fs from 'node:fs';
import * as path from 'node:path';
import { CfnElement, Duration, Lazy, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { functions, type FunctionDefinition, type FunctionId, type StreamConsumerDefinition } from '../lambdas/functions';
import { buckets, tables, type BucketDefinition } from '../lambdas/resources';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { DEFAULT_SMS_LIMITS, type SmsLimits } from '../lambdas/accounts/constants';
import { SendRateLimits } from '../lambdas/send/send-rate-limit';
import { METRICS_NAMESPACE_ENV, metricsNamespaceOf } from '../lambdas/runtime/metrics';
import {
  functionEnvironment,
  SERVICE_NAME,
  type PushPlatformApplications,
  type ResourceNames,
} from '../lambdas/function-environment';
import { bundleAliasesFor, bundleDefinesFor } from './bundled-clients';
import { checkMemorySettings, memorySizeOf } from './memory-sizes';
import { constructId, entriesOf } from './definitions';
import { ParleyExpiryConsumer } from './expiry-consumer';
import { checkPushPlatformApplications, grantPushEndpoints } from './push-access';
import type { ParleyStorage } from './storage';
import { ParleyStreamConsumer } from './stream-consumer';

/** Every SNS resource (topic, platform application or endpoint) in any partition, region and account. */
export const ANY_SNS_ARN = 'arn:*:sns:*:*:*';

/** The folder that holds `package.json` and the `lambdas/` entries named in `lambdas/functions.ts`. */
const PROJECT_ROOT = path.resolve(__dirname, '..');

/** Powertools' log level variable (not a resource name, so `lambdas/resources.ts` does not list it). */
export const LOG_LEVEL_ENV = 'POWERTOOLS_LOG_LEVEL';
/** Powertools' debug sampling variable: the share of invocations that log at DEBUG. */
export const LOG_SAMPLE_RATE_ENV = 'POWERTOOLS_LOGGER_SAMPLE_RATE';
export { SERVICE_NAME };

/** The functions whose definition `consumes` a stream. */
export type ConsumerFunctionId = {
  [K in FunctionId]: (typeof functions)[K] extends { readonly consumes: StreamConsumerDefinition } ? K : never;
}[FunctionId];

/** The functions whose definition names a table in `onExpiry`. */
export type ExpiryFunctionId = {
  [K in FunctionId]: (typeof functions)[K] extends { readonly onExpiry: string } ? K : never;
}[FunctionId];

/** The module every bundle takes in place of the SDK's default credential chain, relative to the project root. */
export const LAMBDA_CREDENTIALS_MODULE = 'lambdas/runtime/lambda-credentials.ts';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'CRITICAL' | 'SILENT';

/**
 * How the functions are traced in X-Ray (every function has Lambda's active tracing either way):
 * - `active`: Lambda's own segments of each invocation, and the fanout's segment that continues each
 *   message's trace, annotated with its ids (lambdas/runtime/lambda-trace.ts); no X-Ray SDK in the bundles.
 * - `subsegments`: the X-Ray SDK (Powertools Tracer) in every bundle besides: each AWS call a subsegment,
 *   each route's subsegment annotated with the message's ids, each stream record a subsegment of its batch.
 *   It costs some 124 KB per bundle, ~55 ms of CPU at each cold start's first call, and async hooks that
 *   tax every await of every call.
 */
export type TracingMode = 'active' | 'subsegments';
export const TRACING_MODES: readonly TracingMode[] = ['active', 'subsegments'];
/** Lean by default: deploy with `subsegments` to look into a slow call, at the price above. */
export const DEFAULT_TRACING: TracingMode = 'active';

/** How every Parley function is built and run. */
export interface ParleyFunctionOptions {
  /**
   * Powertools log level of every function (`POWERTOOLS_LOG_LEVEL`).
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;
  /**
   * Share of invocations, 0 to 1, that log at DEBUG whatever the level (`POWERTOOLS_LOGGER_SAMPLE_RATE`, set only when above 0).
   * @default 0
   */
  readonly logSampleRate?: number;
  /**
   * Memory of every function, in MB (128 to 10,240); Lambda gives CPU in proportion to it.
   * @default - per function, `DEFAULT_MEMORY_SIZES` (lib/memory-sizes.ts): 512 or 1,024 MB on the message path, 256 MB elsewhere
   */
  readonly memorySize?: number;
  /**
   * Memory of single functions, in MB, over `memorySize`: `{ fanout: 2048 }`.
   * @default - none: `memorySize` or Parley's default for each
   */
  readonly memorySizes?: Readonly<Partial<Record<FunctionId, number>>>;
  /**
   * Reserved concurrency of every function: each may run at most this many at once, and that many are
   * kept for it out of the account's regional pool. Caps a development stage so that it cannot starve a
   * production stage in the same account; the account must keep 100 unreserved, so the functions' count
   * times this must fit below the account's concurrency limit less 100.
   * @default - none reserved: the functions share the account's unreserved concurrency
   */
  readonly reservedConcurrency?: number;
  /**
   * Timeout of every function. API Gateway stops waiting after 29 s, so more buys nothing.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * How the functions are traced in X-Ray: Lambda's active tracing alone, or with the X-Ray SDK's
   * subsegments of every AWS call (see {@link TracingMode}).
   * @default 'active'
   */
  readonly tracing?: TracingMode;
  /**
   * esbuild options, merged over Parley's: minified CommonJS for Node 24 with source maps, the AWS SDK
   * bundled so that Lambda runs the SDK versions the tests ran.
   * @default - Parley's bundling options unchanged
   */
  readonly bundling?: BundlingOptions;
}

export interface ParleyFunctionsProps extends ParleyFunctionOptions {
  /** The tables and streams the functions are granted, as `lambdas/functions.ts` declares. */
  readonly storage: ParleyStorage;
  /**
   * How long each function's log group keeps its events.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log groups when they leave the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * The SNS platform application (its ARN) through which devices of each push platform are woken.
   * @default - none: push is off, devices are reached while connected and by SYNC only
   */
  readonly pushPlatformApplications?: PushPlatformApplications;
  /**
   * The most SMS codes the deployment sends in a UTC day; a code request beyond it is refused.
   * @default DEFAULT_SMS_LIMITS.perDay (10,000)
   */
  readonly smsDailyBudget?: number;
  /**
   * How fast one device may send, given to the functions that `limitsSends`.
   * @default DEFAULT_SEND_RATE_LIMITS
   */
  readonly sendRateLimits?: SendRateLimits;
}

/** How every function is bundled unless `bundling` overrides it; `bench/bundles.ts` builds the same bundles to measure them. */
export const DEFAULT_BUNDLING: BundlingOptions = {
  minify: true,
  // Each asset carries its bundle's source map, to read a logged stack trace with, but Lambda does not load
  // it: `--enable-source-maps` (NODE_OPTIONS) made every cold start parse it, some 15% of the import.
  sourceMap: true,
  sourcesContent: false,
  target: 'node24',
  format: OutputFormat.CJS,
  // Prefer packages' ES module builds: esbuild tree-shakes them (a fifth off a handler bundle), still
  // emitting CommonJS.
  mainFields: ['module', 'main'],
  bundleAwsSDK: true,
  // On Lambda the credentials are in the environment: the SDK's whole default chain (and the STS and SSO
  // clients it brings, ~90 KB) gives way to lambdas/runtime/lambda-credentials.ts. Resolved from the project root.
  esbuildArgs: { '--alias': [`@aws-sdk/credential-provider-node=./${LAMBDA_CREDENTIALS_MODULE}`] },
};

/**
 * How one function is bundled: `DEFAULT_BUNDLING`, with only the AWS SDK clients its definition uses
 * (lib/bundled-clients.ts: their event-stream support too only if one of them has event streams) and the
 * X-Ray SDK only if `tracing` wants it, then `overrides` on top (their `define`s and `esbuildArgs` added to
 * those; an `--alias` of `overrides` replaces Parley's).
 */
export function bundlingFor(definition: FunctionDefinition, overrides: BundlingOptions = {}, tracing: TracingMode = DEFAULT_TRACING): BundlingOptions {
  return {
    ...DEFAULT_BUNDLING,
    ...overrides,
    define: {
      ...bundleDefinesFor(definition),
      // lambdas/runtime/lambda-handler.ts then gives the handlers Lambda's trace instead of the SDK's tracer.
      ...(tracing === 'active' ? { 'process.env.PARLEY_BUNDLE_WITHOUT_XRAY_SDK': '"true"' } : {}),
      ...overrides.define,
    },
    esbuildArgs: {
      ...DEFAULT_BUNDLING.esbuildArgs,
      '--alias': [...(DEFAULT_BUNDLING.esbuildArgs!['--alias'] as string[]), ...bundleAliasesFor(definition)],
      ...overrides.esbuildArgs,
    },
  };
}

/**
 * One Lambda function per entry of `lambdas/functions.ts`, each with its own role and log group, granted
 * exactly the table, stream, SMS and push access its definition declares and nothing else; a function that
 * `consumes` a stream is invoked by it through an enhanced fan-out consumer (`ParleyStreamConsumer`); one
 * with an `onExpiry` table is invoked with that table's TTL deletions (`ParleyExpiryConsumer`).
 *
 * @example
 * const fns = new ParleyFunctions(this, 'Functions', { storage });
 * fns.allowConnectionManagement(webSocketStage);
 * fns.functions.connect; // the $connect handler
 */
export class ParleyFunctions extends Construct {
  /** One function per entry of `functions` in `lambdas/functions.ts`. */
  public readonly functions: Readonly<Record<FunctionId, NodejsFunction>>;
  /** The log group of each function. */
  public readonly logGroups: Readonly<Record<FunctionId, logs.LogGroup>>;
  /** The stream consumer of each function that `consumes` a stream. */
  public readonly streamConsumers: Readonly<Record<ConsumerFunctionId, ParleyStreamConsumer>>;
  /** The TTL-deletion event source (with its on-failure queue) of each function with an `onExpiry` table. */
  public readonly expiryConsumers: Readonly<Record<ExpiryFunctionId, ParleyExpiryConsumer>>;
  private connectionsEndpoint: string | undefined;

  constructor(scope: Construct, id: string, props: ParleyFunctionsProps) {
    super(scope, id);
    const lockFile = path.join(PROJECT_ROOT, 'package-lock.json');
    const pushApplications = props.pushPlatformApplications ?? {};
    checkPushPlatformApplications(pushApplications);
    const smsLimits: SmsLimits = { ...DEFAULT_SMS_LIMITS, perDay: props.smsDailyBudget ?? DEFAULT_SMS_LIMITS.perDay };
    const names: ResourceNames = {
      ...resourceNamesOf(props.storage, pushApplications, smsLimits, () => {
        if (!this.connectionsEndpoint) throw new Error('Call allowConnectionManagement(stage) before synthesis');
        return this.connectionsEndpoint;
      }),
      // Checked here, so that a wrong limit fails synthesis instead of every SEND.
      ...(props.sendRateLimits ? { sendRateLimits: JSON.stringify(SendRateLimits.parse(props.sendRateLimits)) } : {}),
    };
    checkMemorySettings(props, 'memorySizes');
    const made = entriesOf(functions).map(([functionId, definition]) => {
      const name = constructId(functionId);
      const logGroup = new logs.LogGroup(this, `${name}Logs`, {
        retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      });
      // An explicit role instead of the default one with AWSLambdaBasicExecutionRole: that managed policy
      // lets a function create any log group and write to all of them; this one writes to its own only.
      const role = new iam.Role(this, `${name}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Execution role of the Parley function ${functionId}`,
      });
      const fn = new NodejsFunction(this, name, {
        entry: path.join(PROJECT_ROOT, definition.entry),
        projectRoot: PROJECT_ROOT,
        ...(fs.existsSync(lockFile) ? { depsLockFilePath: lockFile } : {}),
        description: definition.description,
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: memorySizeOf(functionId, props),
        ...(props.reservedConcurrency === undefined ? {} : { reservedConcurrentExecutions: props.reservedConcurrency }),
        timeout: props.timeout ?? Duration.seconds(10),
        tracing: lambda.Tracing.ACTIVE,
        role,
        logGroup,
        bundling: bundlingFor(definition, props.bundling, props.tracing),
        // Resource names exactly as lambdas/function-environment.ts derives them (the local runtime does the same).
        environment: {
          ...functionEnvironment(definition, names),
          [LOG_LEVEL_ENV]: props.logLevel ?? 'INFO',
          ...(props.logSampleRate ? { [LOG_SAMPLE_RATE_ENV]: String(props.logSampleRate) } : {}),
          [METRICS_NAMESPACE_ENV]: metricsNamespaceOf(Stack.of(this).stackName),
        },
      });
      logGroup.grantWrite(fn);
      grantDeclaredAccess(fn, definition, props.storage);
      grantPushEndpoints(fn, (definition as FunctionDefinition).pushEndpoints ?? [], pushApplications);
      acknowledgeByDesignFindings(role, definition);
      return { functionId, fn, logGroup };
    });
    this.functions = Object.fromEntries(made.map(({ functionId, fn }) => [functionId, fn])) as Record<
      FunctionId,
      NodejsFunction
    >;
    this.logGroups = Object.fromEntries(made.map(({ functionId, logGroup }) => [functionId, logGroup])) as Record<
      FunctionId,
      logs.LogGroup
    >;
    this.streamConsumers = Object.fromEntries(
      entriesOf(functions).flatMap(([functionId, definition]) => {
        const consumes = (definition as FunctionDefinition).consumes;
        if (!consumes) return [];
        const consumer = new ParleyStreamConsumer(this, `${constructId(functionId)}StreamConsumer`, {
          function: this.functions[functionId],
          stream: props.storage.streams[consumes.stream],
          definition: consumes,
          consumerName: functionId,
          failedBatches: props.storage.buckets[consumes.failedBatchesTo],
        });
        return [[functionId, consumer]];
      }),
    ) as Record<ConsumerFunctionId, ParleyStreamConsumer>;
    this.expiryConsumers = Object.fromEntries(
      entriesOf(functions).flatMap(([functionId, definition]) => {
        const onExpiry = (definition as FunctionDefinition).onExpiry;
        if (!onExpiry) return [];
        const consumer = new ParleyExpiryConsumer(this, `${constructId(functionId)}ExpiryConsumer`, {
          function: this.functions[functionId],
          table: props.storage.tables[onExpiry],
          removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
        });
        return [[functionId, consumer]];
      }),
    ) as Record<ExpiryFunctionId, ParleyExpiryConsumer>;
  }

  /**
   * Gives each function that declares `manageConnections` the stage's `@connections` endpoint
   * (`CONNECTIONS_ENDPOINT`) and the right to post to and close connections of that stage only.
   */
  public allowConnectionManagement(stage: WebSocketStage): void {
    this.connectionsEndpoint = stage.callbackUrl;
    for (const [functionId, definition] of entriesOf(functions)) {
      if (!(definition as FunctionDefinition).manageConnections) continue;
      const fn = this.functions[functionId];
      stage.grantManagementApiAccess(fn);
      Validations.of(fn.role!).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${connectionsArnAsNagSeesIt(stage)}]`,
        reason: 'Connection ids are created at run time; the grant is scoped to the @connections API of this one stage.',
      });
    }
  }
}

/**
 * The `@connections` resource ARN of `stage` as cdk-nag prints it in a finding, pseudo parameters and the
 * API's logical id in angle brackets. Acknowledgements are matched by that exact text.
 */
function connectionsArnAsNagSeesIt(stage: WebSocketStage): string {
  const api = stage.api.node.defaultChild as CfnElement;
  const apiLogicalId: unknown = Stack.of(stage).resolve(api.logicalId);
  return `arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${String(apiLogicalId)}>/${stage.stageName}/*/@connections/*`;
}

/** `<table ARN>/index/*`, the resource a table grant adds for the table's indexes, as cdk-nag prints it. */
function indexesArnAsNagSeesIt(table: TableV2): string {
  const tableLogicalId: unknown = Stack.of(table).resolve((table.node.defaultChild as CfnElement).logicalId);
  return `<${String(tableLogicalId)}.Arn>/index/*`;
}

/** The names of the deployed resources; the `@connections` endpoint is known once the stage exists. */
function resourceNamesOf(
  storage: ParleyStorage,
  pushPlatformApplications: PushPlatformApplications,
  smsLimits: SmsLimits,
  connectionsEndpoint: () => string,
): ResourceNames {
  const map = <K extends string, V>(record: Readonly<Record<K, V>>, name: (value: V) => string) =>
    Object.fromEntries(entriesOf(record).map(([key, value]) => [key, name(value as V)])) as Record<K, string>;
  return {
    tables: map(storage.tables, (table) => table.tableName),
    streams: map(storage.streams, (stream) => stream.streamName),
    buckets: map(storage.buckets, (bucket) => bucket.bucketName),
    connectionsEndpoint: Lazy.string({ produce: connectionsEndpoint }),
    // Plain strings (checked above), so plain JSON.
    pushPlatformApplications: JSON.stringify(pushPlatformApplications),
    smsLimits: JSON.stringify(smsLimits),
  };
}

function grantDeclaredAccess(fn: NodejsFunction, definition: FunctionDefinition, storage: ParleyStorage): void {
  for (const [tableId, access] of entriesOf(definition.tables ?? {})) {
    const table = storage.tables[tableId];
    if (access === 'readWrite') table.grantReadWriteData(fn);
    else table.grantReadData(fn);
    if ('localIndexes' in tables[tableId]) {
      // A table with indexes is granted `<table ARN>/index/*` too.
      Validations.of(fn.role!).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${indexesArnAsNagSeesIt(table)}]`,
        reason:
          'The indexes of this one table, which a Query names by IndexName; they hold nothing the table does not, ' +
          'and the function is granted that table as its definition declares.',
      });
    }
  }
  for (const streamId of definition.putsTo ?? []) {
    storage.streams[streamId].grantWrite(fn);
  }
  for (const bucketId of definition.uploadsTo ?? []) grantPresigning(fn, storage.buckets[bucketId], buckets[bucketId]);
  if (definition.sendsSms) {
    // Publishing an SMS straight to a phone number names no SNS resource (IAM sees the number itself), so
    // the allow is on '*'; the deny takes back every SNS ARN, topics and platform endpoints alike, so that
    // the function can text a number and publish nothing else. An explicit deny wins over any allow.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: ['*'] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['sns:Publish'], resources: [ANY_SNS_ARN] }));
  }
}

/**
 * What presigned URLs for a bucket need: a presigned request acts with the signing role's rights, so the
 * role may put, get and abort multipart uploads of objects under the bucket's `keyPrefix` only, and nothing
 * on the bucket itself. Written out because `grantPut`/`grantRead` add `s3:List*` and `s3:GetBucket*` on the
 * whole bucket, which no URL needs.
 */
function grantPresigning(fn: NodejsFunction, bucket: s3.IBucket, definition: BucketDefinition): void {
  const objects = bucket.arnForObjects(`${definition.keyPrefix ?? ''}*`);
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      resources: [objects],
    }),
  );
  Validations.of(fn.role!).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${String(Stack.of(bucket).resolve((bucket.node.defaultChild as CfnElement).logicalId))}.Arn>/${definition.keyPrefix ?? ''}*]`,
    reason:
      'Object keys are random media ids minted at run time; the grant covers the objects under this bucket’s ' +
      'own prefix only, and none of the bucket’s configuration or listing.',
  });
}

function acknowledgeByDesignFindings(role: iam.Role, definition: FunctionDefinition): void {
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'X-Ray’s PutTraceSegments and PutTelemetryRecords have no resource-level permissions' +
      (definition.sendsSms ? '; an SMS published to a phone number names no SNS resource either.' : '.'),
  });
}
