/**
 * The whole of Parley in one Node process, with no AWS account: AWS-compatible emulators reached through
 * the real SDK clients (DynamoDB, Kinesis and `@connections` requests handed to their servers in process,
 * after the SDK's own middleware and signing; S3 and SNS over loopback HTTP), the same handler modules the CDK stack deploys,
 * and gateways that behave like API Gateway. Everything is built from `lambdas/resources.ts` and `lambdas/functions.ts`.
 *
 * @example
 * const parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0 });
 * console.log(parley.webSocketUrl, parley.httpUrl);
 * await parley.stop();
 */
import path from 'node:path';
import { createClients, type Clients } from '../lambdas/runtime/clients';
import {
  functions,
  httpAuthorizer,
  httpRoutes,
  isTwoWayRoute,
  routeSelectionExpression,
  webSocketAuthorizer,
  webSocketRoutes,
  type FunctionDefinition,
  type FunctionId,
} from '../lambdas/functions';
import { functionEnvironment, type ResourceNames } from '../lambdas/function-environment';
import { webSocketLimits } from '../lambdas/protocol/limits';
import { DEFAULT_SMS_LIMITS, type SmsLimits } from '../lambdas/accounts/constants';
import { SendRateLimits } from '../lambdas/send/send-rate-limit';
import { startAwsEmulators, type AwsEmulators } from './aws-emulators';
import { provisionResources } from './provision';
import { ensurePlatformApplications } from './resources/platform-applications';
import { startTtlSweeper, ttlTablesOf, type TtlTable } from './ttl-sweeper';
import { ttlDeletionEvent } from './ttl-deletion-events';
import { startWebSocketGateway, type WebSocketGatewayLimits } from './websocket-gateway';
import { startHttpGateway } from './http-gateway';
import { startKinesisEventSource, type KinesisBatchFailure, type KinesisEventSource } from './kinesis-event-source';
import { streams, tables, type StreamId } from '../lambdas/resources';
import { redriveFailedRecords, type RedriveOptions, type RedriveReport } from '../lambdas/fanout/redrive';
import { fileCheckpoints } from './kinesis/checkpoints';
import { s3FailureDestination } from './kinesis/failure-destination';
import { REDRIVE_ROUTE, redriveRoute } from './redrive-route';
import { localMetrics, METRICS_NAMESPACE_ENV, metricsNamespaceOf } from '../lambdas/runtime/metrics';
import type { MetricRegistry } from '../lambdas/runtime/metric-registry';
import { loadedOnFirstCall, type Invoke } from './function-handlers';
import { startFunctionThreads, type FunctionThreads } from './function-threads/threads';
import type { ThreadInstrumentationOptions } from './function-threads/instrumentation';
import { ServedPorts } from './aws/request-port';
import { inProcessAuthSchemes } from './aws/unverified-signing';


export interface ParleyLocalOptions {
  /** Keep data on disk in this folder across restarts. @default - in memory */
  readonly dataDir?: string;
  /** @default 3001; 0 picks a free port */
  readonly webSocketPort?: number;
  /** @default 3000; 0 picks a free port */
  readonly httpPort?: number;
  /** WebSocket stage name. @default 'local' */
  readonly stage?: string;
  /** API Gateway's limits, for tests that need them small. @default API Gateway's own */
  readonly limits?: Partial<WebSocketGatewayLimits>;
  /** How often expired items are deleted, as DynamoDB's TTL does. @default 30 s */
  readonly ttlSweepIntervalMs?: number;
  /**
   * The SEND rate limits, for tests and benchmarks that send faster than a person (as a deployment sets
   * them with the `parley:sendRateLimits` context). @default DEFAULT_SEND_RATE_LIMITS
   */
  readonly sendRateLimits?: SendRateLimits;
  /** The clock handlers see. @default Date.now */
  readonly now?: () => number;
  /**
   * Wraps a function's invocation, for tests that make an invocation fail midway.
   * @default - functions run as they are
   */
  readonly intercept?: (functionId: FunctionId, invoke: (event: unknown) => Promise<unknown>) => (event: unknown) => Promise<unknown>;
  /**
   * Called with each AWS client the handlers use, as it is made: the place to count requests.
   * @default - clients as they are
   */
  readonly instrumentClients?: <T extends object>(client: T) => T;
  /**
   * The SMS limits of the code route. Every local client comes from one loopback address and tests
   * register many numbers of one prefix, while a local SMS costs nothing: so the per-address and
   * per-prefix limits are off unless given here, and the daily budget is AWS's default.
   * @default LOCAL_SMS_LIMITS
   */
  readonly smsLimits?: Partial<SmsLimits>;
  /** Where the runtime reports what it does. @default silent */
  readonly log?: (line: string) => void;
  /**
   * How the SDK clients reach DynamoDB, Kinesis and `@connections`: handed to their servers in this process
   * after the SDK's middleware, with an unverified signature (`in-process`: local/aws/unverified-signing.ts),
   * or over loopback HTTP with the SDK's own HTTP handler and signer (`loopback`), byte for byte what AWS
   * receives; S3 and SNS are always reached over loopback, signed.
   * @default the PARLEY_LOCAL_AWS_TRANSPORT environment variable, else 'in-process'
   */
  readonly awsTransport?: AwsTransport;
  /**
   * Run DynamoDB and Kinesis on a thread of their own, so that their work uses a second core
   * (`local/aws/emulator-thread.ts`). @default false
   */
  readonly emulatorThread?: boolean;
  /**
   * Run function invocations on this many worker threads (local/function-threads/), as Lambda runs
   * concurrent invocations in sandboxes of their own, so that the handlers' work uses a second core and a
   * long invocation (a group fan-out) holds up only its thread. Each thread loads the same handler modules
   * with SDK clients of its own. A function given to `now` or `instrumentClients` cannot cross to a thread:
   * with threads, `now` is refused, and `instrumentClients` sees only the runtime's own clients (the stream
   * pollers', the redrive's) while `threadInstrumentation` counts the handlers'. `intercept` works as without.
   * @default 0: invocations run on the main thread
   */
  readonly functionThreads?: number;
  /** How the function threads instrument their clients; see `functionThreads`. @default - not instrumented */
  readonly threadInstrumentation?: ThreadInstrumentationOptions;
}

export type AwsTransport = 'in-process' | 'loopback';

/** See `ParleyLocalOptions.awsTransport`. */
export function awsTransportOf(option: AwsTransport | undefined, env: NodeJS.ProcessEnv = process.env): AwsTransport {
  const chosen = option ?? env.PARLEY_LOCAL_AWS_TRANSPORT ?? 'in-process';
  if (chosen !== 'in-process' && chosen !== 'loopback') throw new Error(`PARLEY_LOCAL_AWS_TRANSPORT must be in-process or loopback, not ${chosen}`);
  return chosen;
}

export interface ParleyLocal {
  readonly webSocketUrl: string;
  readonly httpUrl: string;
  readonly connectionsEndpoint: string;
  /** Clients of the emulated AWS services, for inspection. */
  readonly clients: Clients;
  /** Names of the emulated resources. */
  readonly resources: ResourceNames;
  /** The environment each function runs with. */
  readonly environments: Readonly<Record<FunctionId, Record<string, string>>>;
  readonly emulators: AwsEmulators;
  /** The tables whose expired items the TTL sweeper deletes, and the attribute it reads in each. */
  readonly expiringTables: readonly TtlTable[];
  /**
   * Stream batches that failed every retry since this start. Each is also written to the consumer's
   * `failedBatchesTo` bucket, as Lambda's S3 on-failure destination writes it on AWS.
   */
  readonly failedBatches: readonly KinesisBatchFailure[];
  /**
   * Puts the records of the failed batches in the `failedDeliveries` bucket back on the message stream (or
   * answers them with `failed` receipts), as `npm run redrive` does. Resolves once they are on the stream:
   * `drainStreams()` then waits for their delivery.
   */
  redriveFailedRecords(options?: Omit<RedriveOptions, 'bucket'>): Promise<RedriveReport>;
  /**
   * The metrics the handlers emitted in this process (on AWS, EMF lines in CloudWatch), also served as
   * Prometheus text at `GET /metrics` of the HTTP API's port. Shared by every runtime of the process.
   */
  readonly metrics: MetricRegistry;
  /** Resolves once every record put on the streams so far has been handled. */
  drainStreams(): Promise<void>;
  /** Deletes expired items now instead of at the next sweep. */
  sweepExpiredItems(): Promise<void>;
  stop(): Promise<void>;
}

const REGION = 'us-east-1';

/** What the local runtime calls itself where a deployment would use its stack name. */
const LOCAL_STACK_NAME = 'parley-local';

/** The local runtime's metrics endpoint on the HTTP port (AWS has no such route). */
export const METRICS_ROUTE = 'GET /metrics';
const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

/** See `ParleyLocalOptions.smsLimits`. */
export const LOCAL_SMS_LIMITS: SmsLimits = {
  ...DEFAULT_SMS_LIMITS,
  perSourceIpPerHour: Number.MAX_SAFE_INTEGER,
  perNumberPrefixPerHour: Number.MAX_SAFE_INTEGER,
};

export async function startParleyLocal(options: ParleyLocalOptions = {}): Promise<ParleyLocal> {
  if (options.functionThreads && options.now) {
    throw new Error('The handlers on function threads keep their own clock: `now` needs `functionThreads: 0`');
  }
  if (options.functionThreads && options.instrumentClients && !options.threadInstrumentation) {
    throw new Error("`instrumentClients` cannot reach the handlers' clients on function threads: give `threadInstrumentation` too, or `functionThreads: 0`");
  }
  const log = options.log ?? (() => undefined);
  const emulators = await startAwsEmulators({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    log,
    ...(options.now ? { now: options.now } : {}),
    ...(options.emulatorThread ? { emulatorThread: true } : {}),
  });
  const stops: (() => Promise<void>)[] = [() => emulators.stop()];
  const stop = async () => {
    for (const close of stops.reverse()) await close().catch(() => undefined);
  };
  try {
    // DynamoDB, Kinesis and @connections requests go through the SDK's whole middleware stack and are then
    // handed to their servers in this process rather than over loopback TCP, which cost about half the CPU of
    // each request; their Authorization header is stamped, not signed, since none of the three checks a
    // signature (local/aws/unverified-signing.ts). S3 and SNS stay on loopback HTTP, signed; all endpoints
    // keep listening.
    const inProcess = awsTransportOf(options.awsTransport) === 'in-process';
    const requestHandlers = inProcess ? emulators.requestHandlers : {};
    const authSchemes = inProcess ? inProcessAuthSchemes : {};
    const awsClients = createClients({ region: REGION, endpoints: emulators.endpoints, credentials: emulators.credentials, requestHandlers, authSchemes });
    const provisioned = await provisionResources(awsClients);
    const pushPlatformApplications = await ensurePlatformApplications(awsClients.sns, 'parley-local');

    // Handlers are invoked through these until the gateways are up and their endpoints known.
    const invokers = new Map<FunctionId, Invoke>();
    const invoke = (id: FunctionId) => async (event: unknown) => invokers.get(id)!(event) as Promise<never>;

    const webSocket = await startWebSocketGateway({
      port: options.webSocketPort ?? 3001,
      stage: options.stage ?? 'local',
      routeSelectionExpression,
      routes: Object.fromEntries(Object.entries(webSocketRoutes).map(([routeKey, id]) => [routeKey, invoke(id)])),
      twoWay: isTwoWayRoute,
      authorizer: { identityHeader: webSocketAuthorizer.identityHeader, invoke: invoke(webSocketAuthorizer.function) },
      limits: { ...webSocketLimits, ...options.limits },
      log,
    });
    stops.push(() => webSocket.close());

    // Set once the clients exist; the local admin route of the HTTP gateway calls it.
    let redrive: ParleyLocal['redriveFailedRecords'] = () => Promise.reject(new Error('Parley is still starting'));
    const http = await startHttpGateway({
      port: options.httpPort ?? 3000,
      routes: httpRoutes.map((route) => ({ ...route, invoke: invoke(route.function) })),
      authorizer: { identityHeader: httpAuthorizer.identityHeader, invoke: invoke(httpAuthorizer.function) },
      localRoutes: {
        [REDRIVE_ROUTE]: redriveRoute((redriveOptions) => redrive(redriveOptions)),
        // What CloudWatch would hold, as Prometheus text: the handlers' metrics of this process.
        [METRICS_ROUTE]: async () => ({ statusCode: 200, contentType: PROMETHEUS_TEXT, text: localMetrics.prometheusText() }),
      },
      log,
    });
    stops.push(() => http.close());

    const resources: ResourceNames = {
      tables: provisioned.tables,
      streams: provisioned.streams,
      buckets: provisioned.buckets,
      connectionsEndpoint: webSocket.connectionsEndpoint,
      pushPlatformApplications: JSON.stringify(pushPlatformApplications),
      smsLimits: JSON.stringify({ ...LOCAL_SMS_LIMITS, ...options.smsLimits }),
      ...(options.sendRateLimits ? { sendRateLimits: JSON.stringify(SendRateLimits.parse(options.sendRateLimits)) } : {}),
    };
    const endpoints = { ...emulators.endpoints, connections: webSocket.connectionsEndpoint };
    // The local @connections API takes any signature, but the SDK must have something to sign with:
    // without this, `npm start` on a machine with no AWS credentials could not push.
    const credentials = { ...emulators.credentials, connections: emulators.credentials.dynamodb };
    const clients = createClients({
      region: REGION,
      endpoints,
      credentials,
      requestHandlers: inProcess ? { ...requestHandlers, connections: webSocket.connectionsRequestHandler } : requestHandlers,
      authSchemes,
      ...(options.instrumentClients ? { instrument: options.instrumentClients } : {}),
    });
    const environments = {} as Record<FunctionId, Record<string, string>>;
    for (const id of Object.keys(functions) as FunctionId[]) {
      // The same variables as on AWS; locally the namespace only names what GET /metrics serves.
      environments[id] = { ...functionEnvironment(functions[id], resources), [METRICS_NAMESPACE_ENV]: metricsNamespaceOf(LOCAL_STACK_NAME) };
    }
    let threads: FunctionThreads | undefined;
    if (options.functionThreads) {
      // Each thread reaches DynamoDB and Kinesis through a port of its own to the emulators, and @connections
      // through one to this thread's gateway; S3 and SNS over loopback, as here.
      const gatewayPorts = new ServedPorts({ connections: webSocket.connectionsRequestHandler });
      const started = await startFunctionThreads({
        threads: options.functionThreads,
        setup: () => ({
          region: REGION,
          endpoints,
          credentials,
          environments,
          resources,
          ...(inProcess ? { ports: { databases: emulators.connect(), connections: gatewayPorts.open() } } : {}),
        }),
        ...(options.threadInstrumentation ? { instrumentation: options.threadInstrumentation } : {}),
        log,
      });
      threads = started;
      stops.push(async () => {
        await started.stop();
        gatewayPorts.close();
      });
    }
    for (const id of Object.keys(functions) as FunctionId[]) {
      const run: Invoke = threads ? (event) => threads.invoke(id, event) : loadedOnFirstCall(id, { env: environments[id], clients, now: options.now ?? Date.now });
      invokers.set(id, options.intercept ? options.intercept(id, run) : run);
    }

    // Lambda's Kinesis event source mapping, per consuming function, as lambdas/functions.ts declares it.
    // With a data directory each shard resumes after its checkpoint, and a shard without one (the stream is
    // new, or was read before checkpoints were kept) from its oldest record; in memory the stream is new.
    const failedBatches: KinesisBatchFailure[] = [];
    const eventSources: KinesisEventSource[] = [];
    const now = options.now ?? Date.now;
    for (const id of Object.keys(functions) as FunctionId[]) {
      const consumes = (functions[id] as FunctionDefinition).consumes;
      if (!consumes) continue;
      const writeFailedBatch = s3FailureDestination({
        s3: clients.s3,
        bucket: resources.buckets[consumes.failedBatchesTo],
        mappingId: id,
        functionArn: `arn:aws:lambda:${REGION}:000000000000:function:${id}`,
        now,
      });
      const source = await startKinesisEventSource({
        kinesis: clients.kinesis,
        streamName: resources.streams[consumes.stream],
        handler: invoke(id) as never,
        startingPosition: options.dataDir ? 'TRIM_HORIZON' : 'LATEST',
        ...(options.dataDir ? { checkpoints: await fileCheckpoints(path.join(options.dataDir, 'event-sources', `${id}.json`)) } : {}),
        batchSize: consumes.batchSize,
        parallelizationFactor: consumes.parallelizationFactor,
        retryAttempts: consumes.retryAttempts,
        bisectBatchOnError: true,
        reportBatchItemFailures: consumes.reportBatchItemFailures,
        onFailure: async (failure) => {
          failedBatches.push(failure);
          log(`${id}: ${failure.records.length} records of ${failure.shardId} failed every retry, kept for redrive: ${failure.error.message}`);
          await writeFailedBatch(failure);
        },
        puts: emulators.kinesisPuts,
        log,
      });
      eventSources.push(source);
      stops.push(() => source.stop());
    }

    redrive = (redriveOptions = {}) =>
      redriveFailedRecords(
        {
          clients,
          // Each failed record goes back to its conversation's stream (`putOnMessageStream`): both are named.
          env: {
            ...Object.fromEntries((Object.keys(streams) as StreamId[]).map((id) => [streams[id].envVar, resources.streams[id]])),
            [tables.acceptedMessages.envVar]: resources.tables.acceptedMessages,
          },
          now,
        },
        { ...redriveOptions, bucket: resources.buckets.failedDeliveries, log: redriveOptions.log ?? log },
      );

    const expiringTables = ttlTablesOf(resources.tables);
    // What DynamoDB's stream of TTL deletions feeds on AWS, the sweeper feeds here.
    const expiryHandlers = (Object.keys(functions) as FunctionId[]).filter((id) => (functions[id] as FunctionDefinition).onExpiry);
    const onExpired = async (tableId: string, item: Record<string, unknown>) => {
      const table = expiringTables.find((candidate) => candidate.tableId === tableId)!;
      for (const id of expiryHandlers) {
        if ((functions[id] as FunctionDefinition).onExpiry !== tableId) continue;
        await invoke(id)(ttlDeletionEvent(table.tableName, table.keyNames, item));
      }
    };
    const sweeper = startTtlSweeper({ db: clients.db, tables: expiringTables, onExpired, ...(options.now ? { now: options.now } : {}), intervalMs: options.ttlSweepIntervalMs ?? 30_000, log });
    stops.push(() => sweeper.stop());

    return {
      webSocketUrl: webSocket.url,
      httpUrl: http.url,
      connectionsEndpoint: webSocket.connectionsEndpoint,
      clients,
      resources,
      environments,
      emulators,
      expiringTables,
      failedBatches,
      redriveFailedRecords: (redriveOptions) => redrive(redriveOptions),
      metrics: localMetrics,
      drainStreams: async () => {
        await Promise.all(eventSources.map((source) => source.drain()));
      },
      sweepExpiredItems: () => sweeper.sweepOnce(),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
