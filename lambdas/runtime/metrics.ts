/**
 * Parley's metrics, in the shape of Powertools Metrics (`addMetric`, `addDimensions`, `singleMetric`,
 * `publishStoredMetrics` once per invocation) so that `@aws-lambda-powertools/metrics` can replace this
 * module without touching a caller. On Lambda each flush prints one CloudWatch Embedded Metric Format line
 * per dimension set to stdout, which CloudWatch Logs turns into metrics; elsewhere (the local runtime,
 * tests) metrics go to an in-process registry that `GET /metrics` of the local HTTP API serves.
 *
 * Dimensions are few and of bounded cardinality: a route or consumer name, an error code, a status. Never a
 * phone number, token, user, device or connection id (cardinality is the bill, and ids are private).
 */
import { env as envNames } from '../resources';

/** The namespace when `POWERTOOLS_METRICS_NAMESPACE` is unset (locally); the stack sets `Parley/<stack name>`. */
export const DEFAULT_NAMESPACE = 'Parley';
/** Powertools' namespace variable, which the stack sets. */
export const METRICS_NAMESPACE_ENV = 'POWERTOOLS_METRICS_NAMESPACE';
/** One namespace per deployed stack, so that two stages in one account keep their metrics apart. */
export const metricsNamespaceOf = (stackName: string): string => `${DEFAULT_NAMESPACE}/${stackName}`;

export const MetricUnit = {
  Count: 'Count',
  Milliseconds: 'Milliseconds',
  Seconds: 'Seconds',
  Bytes: 'Bytes',
} as const;
export type MetricUnit = (typeof MetricUnit)[keyof typeof MetricUnit];

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
  connectionsOpened: 'ConnectionsOpened',
  connectionsClosed: 'ConnectionsClosed',
  /** Batches the redrive command found in the failed-deliveries bucket. */
  failedBatchesFound: 'FailedBatchesFound',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

export type Dimensions = Readonly<Record<string, string>>;

/** Where flushed metrics go. */
export interface MetricSink {
  publish(namespace: string, dimensions: Dimensions, metrics: ReadonlyMap<string, StoredMetric>, timestamp: number): void;
}

export interface StoredMetric {
  readonly unit: MetricUnit;
  readonly values: number[];
}

/** CloudWatch takes at most 100 values of a metric in one EMF line. */
const MAX_VALUES = 100;

/** Prints CloudWatch Embedded Metric Format, one JSON line per flush. */
export const emfSink: MetricSink = {
  publish(namespace, dimensions, metrics, timestamp) {
    const line: Record<string, unknown> = {
      _aws: {
        Timestamp: timestamp,
        CloudWatchMetrics: [
          {
            Namespace: namespace,
            Dimensions: [Object.keys(dimensions)],
            Metrics: [...metrics].map(([Name, { unit }]) => ({ Name, Unit: unit })),
          },
        ],
      },
      ...dimensions,
    };
    for (const [name, { values }] of metrics) line[name] = values.length === 1 ? values[0] : values;
    process.stdout.write(`${JSON.stringify(line)}\n`);
  },
};

/**
 * Counters and summaries in memory, for the local runtime: what CloudWatch would hold, readable as
 * Prometheus text.
 */
export class MetricRegistry implements MetricSink {
  private readonly series = new Map<string, { name: string; unit: MetricUnit; labels: Dimensions; values: number[]; sum: number; count: number }>();

  publish(_namespace: string, dimensions: Dimensions, metrics: ReadonlyMap<string, StoredMetric>): void {
    for (const [name, { unit, values }] of metrics) {
      const key = `${name}${JSON.stringify(Object.entries(dimensions).sort())}`;
      let series = this.series.get(key);
      if (!series) this.series.set(key, (series = { name, unit, labels: dimensions, values: [], sum: 0, count: 0 }));
      for (const value of values) {
        series.sum += value;
        series.count += 1;
        // Summaries keep a window of recent values for their quantiles.
        if (unit !== MetricUnit.Count) series.values.push(value);
      }
      if (series.values.length > 10_000) series.values.splice(0, series.values.length - 10_000);
    }
  }

  /** The sum of a metric's values over the series whose labels include `labels`. */
  total(name: MetricName, labels: Dimensions = {}): number {
    let sum = 0;
    for (const series of this.series.values()) {
      if (series.name === name && Object.entries(labels).every(([k, v]) => series.labels[k] === v)) sum += series.sum;
    }
    return sum;
  }

  reset(): void {
    this.series.clear();
  }

  /** Prometheus text exposition: counts as `parley_<name>_total`, other units as summaries with p50/p99. */
  prometheusText(): string {
    const byName = new Map<string, (typeof this.series extends Map<string, infer S> ? S : never)[]>();
    for (const series of this.series.values()) byName.set(series.name, [...(byName.get(series.name) ?? []), series]);
    const lines: string[] = [];
    for (const [name, all] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
      const base = `parley_${name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()}`;
      const unit = all[0]!.unit;
      if (unit === MetricUnit.Count) {
        lines.push(`# TYPE ${base}_total counter`);
        for (const s of all) lines.push(`${base}_total${labelsOf(s.labels)} ${s.sum}`);
      } else {
        const metric = `${base}_${unit.toLowerCase()}`;
        lines.push(`# TYPE ${metric} summary`);
        for (const s of all) {
          const sorted = [...s.values].sort((a, b) => a - b);
          for (const q of [0.5, 0.99]) {
            const at = sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
            lines.push(`${metric}${labelsOf({ ...s.labels, quantile: String(q) })} ${at}`);
          }
          lines.push(`${metric}_sum${labelsOf(s.labels)} ${s.sum}`, `${metric}_count${labelsOf(s.labels)} ${s.count}`);
        }
      }
    }
    return `${lines.join('\n')}\n`;
  }
}

function labelsOf(labels: Dimensions): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`).join(',')}}`;
}

export interface MetricsOptions {
  readonly namespace?: string;
  readonly serviceName?: string;
  readonly sink?: MetricSink;
}

/**
 * Stored metrics of one dimension set, flushed with `publishStoredMetrics()`; metrics with other dimensions
 * go through `singleMetric()`, which publishes at once, as in Powertools.
 *
 * @example
 * const metrics = new Metrics({ namespace: 'Parley/dev', serviceName: 'parley' });
 * metrics.addMetric('LiveDeliveries', MetricUnit.Count, 1);
 * metrics.singleMetric().addDimensions({ code: 'INTERNAL' }).addMetric('RouteErrors', MetricUnit.Count, 1);
 * metrics.publishStoredMetrics();
 */
export class Metrics {
  private readonly stored = new Map<string, StoredMetric>();
  private dimensions: Record<string, string> = {};

  constructor(
    private readonly options: Required<MetricsOptions>,
    private readonly single = false,
  ) {
    this.dimensions = { service: options.serviceName };
  }

  addDimension(name: string, value: string): this {
    this.dimensions[name] = value;
    return this;
  }

  addDimensions(dimensions: Dimensions): this {
    Object.assign(this.dimensions, dimensions);
    return this;
  }

  addMetric(name: string, unit: MetricUnit, value: number): this {
    let metric = this.stored.get(name);
    if (!metric) this.stored.set(name, (metric = { unit, values: [] }));
    metric.values.push(value);
    if (this.single || metric.values.length >= MAX_VALUES) this.publishStoredMetrics();
    return this;
  }

  /** A metric with dimensions of its own, published as soon as it is added. */
  singleMetric(): Metrics {
    return new Metrics(this.options, true).addDimensions(this.dimensions);
  }

  publishStoredMetrics(): void {
    if (this.stored.size === 0) return;
    this.options.sink.publish(this.options.namespace, { ...this.dimensions }, new Map(this.stored), Date.now());
    this.stored.clear();
  }
}

/** Every metric of this process when not on Lambda: the local runtime serves it. */
export const localMetrics = new MetricRegistry();

const onLambda = process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined;

/** The process's metrics, one invocation at a time on Lambda; flushed by the handler wrapper. */
export const metrics = new Metrics({
  namespace: process.env[METRICS_NAMESPACE_ENV] ?? DEFAULT_NAMESPACE,
  serviceName: process.env[envNames.serviceName] ?? 'parley',
  sink: onLambda ? emfSink : localMetrics,
});

/**
 * Counts `value` of `name` (or records a duration), with `dimensions` if any. Never pass an id, number or
 * token as a dimension.
 */
export function recordMetric(name: MetricName, value = 1, dimensions?: Dimensions, unit: MetricUnit = MetricUnit.Count): void {
  if (dimensions && Object.keys(dimensions).length > 0) metrics.singleMetric().addDimensions(dimensions).addMetric(name, unit, value);
  else metrics.addMetric(name, unit, value);
}
