import { CfnOutput, RemovalPolicy } from 'aws-cdk-lib';
import type { HttpApi, ThrottleSettings, WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { Stream } from 'aws-cdk-lib/aws-kinesis';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { PushPlatformApplications } from '../lambdas/function-environment';
import type { FunctionId } from '../lambdas/functions';
import type { SendRateLimits } from '../lambdas/send/send-rate-limit';
import type { BucketId, StreamId, TableId } from '../lambdas/resources';
import { ParleyConnectionPlane } from './connection-plane';
import { entriesOf } from './definitions';
import { ParleyFunctions, type ExpiryFunctionId, type ParleyFunctionOptions } from './functions';
import { ParleyHttpApi } from './http-api';
import { ParleyObservability, type AlertDestination } from './observability';
import { STACK_OUTPUTS } from './stack-outputs';
import { ParleyStorage } from './storage';

/** The stage a `Parley` is when given none: the production one, whose data tables are protected. */
export const DEFAULT_STAGE_NAME = 'prod';

export interface ParleyProps extends ParleyFunctionOptions {
  /**
   * Name of the WebSocket stage, the last part of its `wss://` URL. (The HTTP API serves at its root.)
   * @default 'prod'
   */
  readonly stageName?: string;
  /**
   * What happens to stateful resources (tables, stream, media bucket, log groups) when they leave the
   * stack or the stack is deleted. `DESTROY` suits development stacks only; it also empties the bucket.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Whether the tables of accounts, devices, device keys, one-time prekeys and device queues have
   * DynamoDB deletion protection (no stack update, stack deletion or console click deletes them while it is on).
   * @default - true when `stageName` is 'prod' (the default stage), false for any other stage
   */
  readonly protectData?: boolean;
  /**
   * How long function and access log groups keep their events.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Requests per second (rate) and burst across the whole HTTP API.
   * @default - 500 per second, bursts of 1,000
   */
  readonly httpThrottle?: ThrottleSettings;
  /**
   * Requests per second (rate) and burst of the open SMS route (`POST /v1/verification/code`), apart
   * from and below `httpThrottle`: a flood of code requests cannot crowd out signed-in devices.
   * @default - 5 per second, bursts of 10
   */
  readonly smsThrottle?: ThrottleSettings;
  /**
   * Messages per second (rate) and burst across the whole WebSocket stage.
   * @default - 5,000 per second, bursts of 5,000
   */
  readonly webSocketThrottle?: ThrottleSettings;
  /**
   * Messages per second (rate) and burst of each of the SEND and GROUP_SEND routes across the stage.
   * @default - 2,000 per second, bursts of 2,000
   */
  readonly messageThrottle?: ThrottleSettings;
  /**
   * Messages per second (rate) and burst of the TYPING route across the stage.
   * @default - 1,000 per second, bursts of 1,000
   */
  readonly typingThrottle?: ThrottleSettings;
  /**
   * How fast one device may send: per device, and per device and recipient user.
   * @default DEFAULT_SEND_RATE_LIMITS - 300 at once then 5/s per device; 60 at once then 1/s per recipient
   */
  readonly sendRateLimits?: SendRateLimits;
  /**
   * Shards of each message stream (`messages`, `groupMessages`). A number makes each provisioned with that many shards.
   * @default - on-demand streams
   */
  readonly messageStreamShards?: number;
  /**
   * Whether to set API Gateway's account-level CloudWatch logging role, without which a WebSocket stage
   * cannot write access logs. One setting per account and region: turn it off where another stack or a
   * landing zone already sets it.
   * @default true
   */
  readonly setApiGatewayLoggingRole?: boolean;
  /**
   * The SNS platform application through which offline devices of each push platform get a silent
   * wake-up push: `{ apns?, apnsSandbox?, fcm? }`, each the ARN of an application of platform `APNS`,
   * `APNS_SANDBOX` or `GCM` (Firebase Cloud Messaging) that you created with your Apple or Firebase
   * credentials. A device registering a token for a platform not given here is refused.
   * @default - none: push is off, devices are reached while connected and by SYNC only
   */
  readonly pushPlatformApplications?: PushPlatformApplications;
  /**
   * The most SMS verification codes the deployment sends in a UTC day, whoever asks: the ceiling of the
   * SMS bill. A code request beyond it is refused with RATE_LIMITED until the next UTC day.
   * @default 10,000
   */
  readonly smsDailyBudget?: number;
  /**
   * Where the alarms go: e-mail addresses subscribed to a new alert topic, or an existing topic's ARN.
   * @default - a new alert topic with no subscription (subscribe to it, or alarms reach no one)
   */
  readonly alerts?: AlertDestination;
  /**
   * New WebSocket connections per second API Gateway allows the account in this region (500 unless raised);
   * the connection-rate alarm fires at 90% of it.
   * @default 500
   */
  readonly connectionRateLimit?: number;
}

/**
 * The whole of Parley on AWS: tables, message streams (1:1 and groups) and media bucket; one Lambda function per entry
 * of `lambdas/functions.ts`, stream consumers invoked through enhanced fan-out,
 * expiry handlers through their table's stream; the WebSocket API devices stay connected to; the HTTP API of
 * accounts and devices. Everything is built from the definitions in `lambdas/`, the ones the local runtime serves.
 *
 * @example
 * import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
 * import { Parley } from './lib/parley';
 *
 * const app = new App();
 * const stack = new Stack(app, 'Chat');
 * const parley = new Parley(stack, 'Parley', { stageName: 'dev', removalPolicy: RemovalPolicy.DESTROY });
 * parley.webSocketUrl; // wss://…/dev
 */
export class Parley extends Construct {
  /** Tables, message streams and media bucket. */
  public readonly storage: ParleyStorage;
  /** The Lambda functions with their roles, log groups and stream consumers. */
  public readonly handlers: ParleyFunctions;
  /** The WebSocket API and stage. */
  public readonly connectionPlane: ParleyConnectionPlane;
  /** The HTTP API and stage. */
  public readonly http: ParleyHttpApi;
  /** The alert topic, dashboard and alarms (docs/operations.md). */
  public readonly observability: ParleyObservability;

  constructor(scope: Construct, id: string, props: ParleyProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const stageName = props.stageName ?? DEFAULT_STAGE_NAME;

    this.storage = new ParleyStorage(this, 'Storage', {
      removalPolicy,
      messageStreamShards: props.messageStreamShards,
      deletionProtection: props.protectData ?? stageName === DEFAULT_STAGE_NAME,
    });
    this.handlers = new ParleyFunctions(this, 'Functions', {
      storage: this.storage,
      logRetention,
      removalPolicy,
      logLevel: props.logLevel,
      logSampleRate: props.logSampleRate,
      memorySize: props.memorySize,
      memorySizes: props.memorySizes,
      reservedConcurrency: props.reservedConcurrency,
      timeout: props.timeout,
      tracing: props.tracing,
      bundling: props.bundling,
      pushPlatformApplications: props.pushPlatformApplications,
      smsDailyBudget: props.smsDailyBudget,
      sendRateLimits: props.sendRateLimits,
    });
    this.connectionPlane = new ParleyConnectionPlane(this, 'WebSocket', {
      functions: this.handlers.functions,
      stageName,
      throttle: props.webSocketThrottle,
      messageThrottle: props.messageThrottle,
      typingThrottle: props.typingThrottle,
      logRetention,
      removalPolicy,
      setApiGatewayLoggingRole: props.setApiGatewayLoggingRole,
    });
    this.handlers.allowConnectionManagement(this.connectionPlane.stage);
    this.http = new ParleyHttpApi(this, 'Http', {
      functions: this.handlers.functions,
      throttle: props.httpThrottle,
      smsThrottle: props.smsThrottle,
      logRetention,
      removalPolicy,
    });
    this.observability = new ParleyObservability(this, 'Observability', {
      functions: this.handlers.functions,
      streamFunctions: Object.fromEntries(
        [...Object.keys(this.handlers.streamConsumers), ...Object.keys(this.handlers.expiryConsumers)].map((id) => [id, this.functions[id as FunctionId]]),
      ),
      tables: this.storage.tables,
      webSocketStage: this.connectionPlane.stage,
      failedDeliveries: this.failedDeliveries,
      failedRecords: this.failedRecords,
      alerts: props.alerts,
      smsDailyBudget: props.smsDailyBudget,
      connectionRateLimit: props.connectionRateLimit,
    });

    new CfnOutput(this, 'WebSocketUrl', {
      description: 'Where devices connect (wss://)',
      value: this.webSocketUrl,
    });
    new CfnOutput(this, 'HttpApiUrl', {
      description: 'Base URL of the accounts and devices API',
      value: this.httpUrl,
    });
    // What `npm run redrive -- --stage <stage>` (or `--stack <stack>`) reads to find the failed batches and the stream they go back to.
    new CfnOutput(this, STACK_OUTPUTS.failedDeliveriesBucket, {
      description: 'Bucket of the message-stream batches the fanout gave up on (npm run redrive)',
      value: this.failedDeliveries.bucketName,
    });
    new CfnOutput(this, STACK_OUTPUTS.messageStream, {
      description: 'The 1:1 conversations\' message stream (npm run redrive puts their failed records back on it)',
      value: this.streams.messages.streamName,
    });
    new CfnOutput(this, STACK_OUTPUTS.groupStream, {
      description: 'The group conversations\' message stream (npm run redrive puts their failed records back on it)',
      value: this.streams.groupMessages.streamName,
    });
    new CfnOutput(this, STACK_OUTPUTS.acceptedMessagesTable, {
      description: 'Accepted messages (npm run redrive drops a failed message its sender deleted for everyone)',
      value: this.storage.tables.acceptedMessages.tableName,
    });
  }

  /** The tables, by their key in `lambdas/resources.ts`. */
  public get tables(): Readonly<Record<TableId, TableV2>> {
    return this.storage.tables;
  }

  /** The streams, by their key in `lambdas/resources.ts`. */
  public get streams(): Readonly<Record<StreamId, Stream>> {
    return this.storage.streams;
  }

  /** The buckets, by their key in `lambdas/resources.ts`. */
  public get buckets(): Readonly<Record<BucketId, Bucket>> {
    return this.storage.buckets;
  }

  /** The Lambda functions, by their key in `lambdas/functions.ts`. */
  public get functions(): Readonly<Record<FunctionId, NodejsFunction>> {
    return this.handlers.functions;
  }

  /**
   * The on-failure queue of each function invoked with a table's TTL deletions: the records it gave up on
   * after its retries. Alarm on its `ApproximateNumberOfMessagesVisible`. (What the stream consumers give
   * up on goes, records and all, to the `failedDeliveries` bucket.)
   */
  public get failedRecords(): Readonly<Record<ExpiryFunctionId, Queue>> {
    return Object.fromEntries(
      entriesOf(this.handlers.expiryConsumers).map(([functionId, consumer]) => [functionId, consumer.failedRecords]),
    ) as Record<ExpiryFunctionId, Queue>;
  }

  /** Where Lambda writes each message-stream batch the fanout gave up on, for `npm run redrive`. */
  public get failedDeliveries(): Bucket {
    return this.storage.buckets.failedDeliveries;
  }

  public get webSocketApi(): WebSocketApi {
    return this.connectionPlane.api;
  }

  public get webSocketStage(): WebSocketStage {
    return this.connectionPlane.stage;
  }

  public get httpApi(): HttpApi {
    return this.http.api;
  }

  /** `wss://` URL of the WebSocket stage. */
  public get webSocketUrl(): string {
    return this.connectionPlane.stage.url;
  }

  /** `https://` URL of the WebSocket stage's `@connections` API. */
  public get connectionsUrl(): string {
    return this.connectionPlane.stage.callbackUrl;
  }

  /** Base `https://` URL of the HTTP API. */
  public get httpUrl(): string {
    return this.http.url;
  }
}
