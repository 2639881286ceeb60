/**
 * Parley's metrics, through Powertools Metrics: on Lambda each flush prints CloudWatch Embedded Metric
 * Format lines to stdout, which CloudWatch Logs turns into metrics; elsewhere (the local runtime, tests) the
 * same EMF objects go to an in-process registry that `GET /metrics` of the local HTTP API serves.
 *
 * Dimensions are few and of bounded cardinality: `service`, and a route or consumer name, an error code, an
 * outcome. Never a phone number, token, user, device or connection id (cardinality is the bill, and ids are
 * private).
 */
import { Metrics, MetricUnit as PowertoolsMetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricsOptions } from '@aws-lambda-powertools/metrics/types';
import { env as envNames } from '../resources';
import { MetricRegistry } from './metric-registry';

/** Powertools' units (`Count`, `Milliseconds`, …). */
export const MetricUnit = PowertoolsMetricUnit;
export type MetricUnit = (typeof MetricUnit)[keyof typeof MetricUnit];

/** The namespace when `POWERTOOLS_METRICS_NAMESPACE` is unset (locally); the stack sets `Parley/<stack name>`. */
export const DEFAULT_NAMESPACE = 'Parley';
/** Powertools' namespace variable, which the stack sets. */
export const METRICS_NAMESPACE_ENV = 'POWERTOOLS_METRICS_NAMESPACE';
/** One namespace per deployed stack, so that two stages in one account keep their metrics apart. */
export const metricsNamespaceOf = (stackName: string): string => `${DEFAULT_NAMESPACE}/${stackName}`;

/** Every metric Parley emits, by name: the dashboard and alarms (lib/observability.ts) read the same names. */
export const METRIC = {
  /** A SEND or GROUP_SEND answered ACK: the message is on the stream. Dimension `route`. */
  messagesAccepted: 'MessagesAccepted',
  /** Every frame or request a route handled. No dimension, so that the INTERNAL rate has one denominator. */
  requests: 'Requests',
  /** Errors answered, by `code` alone (for alarms). */
  routeErrors: 'RouteErrors',
  /** Errors answered, by `route` and `code` (SEND refused by code is `route=send`). */
  routeErrorsByRoute: 'RouteErrorsByRoute',
  /** Milliseconds from the send handler's `serverTs` stamp to the `@connections` post of a message. */
  deliveryLatency: 'DeliveryLatency',
  /** Frames posted to a live connection by the fanout. */
  liveDeliveries: 'LiveDeliveries',
  /** Messages (PUSH frames, not receipts or notices) posted to a live connection: what the ack rate divides by. */
  messagesPushed: 'MessagesPushed',
  /** Messages a device will find at its next SYNC: it had no live connection. */
  queuedOffline: 'QueuedOffline',
  /** Queued messages (PUSH frames) a DELIVERED acknowledged; receipts and notices acknowledged are not counted. */
  messagesDelivered: 'MessagesDelivered',
  /** READ receipts accepted. */
  readReceipts: 'ReadReceipts',
  /** SYNC pages answered, their frames and their handling time. */
  syncPages: 'SyncPages',
  syncFrames: 'SyncFrames',
  syncDuration: 'SyncDuration',
  /** Stream records processed and failed (each failure is retried by Lambda), dimension `consumer`. */
  streamRecords: 'StreamRecords',
  streamRecordsFailed: 'StreamRecordsFailed',
  /** Routes removed because their connection answered Gone. */
  goneConnections: 'GoneConnections',
  /** Wake-up pushes by `outcome`: sent, failed, forgotten (the endpoint was dead). */
  pushes: 'Pushes',
  /** PREKEYS_LOW notices queued. */
  prekeyLowNotices: 'PrekeyLowNotices',
  /** SMS verification codes SNS accepted: the SMS bill. */
  smsSent: 'SmsSent',
  /** Media uploads asked for, by `outcome`: `granted` (a presigned upload) or `deduplicated` (the same blob was stored). */
  mediaUploads: 'MediaUploads',
  /** Users coming online or going offline, by `state`: each change costs a subscriptions query and its posts. */
  presenceChanges: 'PresenceChanges',
  connectionsOpened: 'ConnectionsOpened',
  connectionsClosed: 'ConnectionsClosed',
  /** Batches the redrive command found in the failed-deliveries bucket. */
  failedBatchesFound: 'FailedBatchesFound',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

export type Dimensions = Readonly<Record<string, string>>;

/**
 * Powertools Metrics whose flushes go to a registry instead of stdout: the library still builds each EMF
 * object (`serializeMetrics`), so the local runtime sees exactly what CloudWatch would.
 */
export class RegistryMetrics extends Metrics {
  constructor(
    private readonly registry: MetricRegistry,
    private readonly settings: MetricsOptions,
  ) {
    super(settings);
  }

  override publishStoredMetrics(): this {
    try {
      if (this.hasStoredMetrics()) this.registry.record(this.serializeMetrics());
    } finally {
      this.clearMetrics();
      this.clearDimensions();
      this.clearMetadata();
    }
    return this;
  }

  override singleMetric(): Metrics {
    return new RegistryMetrics(this.registry, { ...this.settings, singleMetric: true });
  }
}

/** Every metric of this process when not on Lambda: the local runtime serves it. */
export const localMetrics = new MetricRegistry();

/** The process's metrics: EMF to stdout on Lambda, `registry` elsewhere. */
export function createMetrics(environment: NodeJS.ProcessEnv, registry: MetricRegistry): Metrics {
  const options: MetricsOptions = {
    namespace: environment[METRICS_NAMESPACE_ENV] ?? DEFAULT_NAMESPACE,
    serviceName: environment[envNames.serviceName] ?? 'parley',
  };
  return environment.AWS_LAMBDA_FUNCTION_NAME !== undefined ? new Metrics(options) : new RegistryMetrics(registry, options);
}

/** The process's metrics, one invocation at a time on Lambda; flushed by the handler wrapper. */
export const metrics = createMetrics(process.env, localMetrics);

/** Publishes what this invocation recorded (Powertools warns about an empty flush, so none is made). */
export function flushMetrics(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}

/**
 * Counts `value` of `name` (or records a duration), with `dimensions` if any. Never pass an id, number or
 * token as a dimension.
 */
export function recordMetric(name: MetricName, value = 1, dimensions?: Dimensions, unit: MetricUnit = MetricUnit.Count): void {
  if (dimensions && Object.keys(dimensions).length > 0) metrics.singleMetric().addDimensions(dimensions).addMetric(name, unit, value);
  else metrics.addMetric(name, unit, value);
}
