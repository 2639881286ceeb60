/**
 * The local runtime's view of the metrics: what CloudWatch would make of the Embedded Metric Format output
 * of Powertools Metrics, kept in memory and readable as Prometheus text (`GET /metrics` of the local HTTP API).
 */
import type { EmfOutput } from '@aws-lambda-powertools/metrics/types';

export type Labels = Readonly<Record<string, string>>;

interface Series {
  readonly name: string;
  readonly unit: string;
  readonly labels: Labels;
  /** A window of recent values, for the quantiles of summaries (counters keep none). */
  readonly values: number[];
  sum: number;
  count: number;
}

/** Recent values a summary keeps for its quantiles. */
const SUMMARY_WINDOW = 10_000;

/**
 * Counters and summaries in memory, fed with the EMF objects Powertools Metrics serializes.
 *
 * @example
 * const registry = new MetricRegistry();
 * registry.record(metrics.serializeMetrics());
 * registry.total('RouteErrors', { code: 'INTERNAL' });
 */
export class MetricRegistry {
  private readonly series = new Map<string, Series>();
  private forward: ((emf: EmfOutput) => void) | undefined;

  /**
   * From now on hands each EMF object to `sink` instead of keeping it: a function thread of the local runtime
   * sends its handlers' metrics to the registry of the main thread, which serves them.
   */
  forwardTo(sink: (emf: EmfOutput) => void): void {
    this.forward = sink;
  }

  /** Adds one EMF object's values: one series per metric and dimension set, as CloudWatch stores them. */
  record(emf: EmfOutput): void {
    if (this.forward) return this.forward(emf);
    const fields = emf as unknown as Record<string, unknown>;
    for (const { Dimensions, Metrics } of emf._aws.CloudWatchMetrics) {
      for (const dimensionNames of Dimensions.length > 0 ? Dimensions : [[]]) {
        const labels = Object.fromEntries(dimensionNames.map((name) => [name, String(fields[name])]));
        for (const { Name, Unit } of Metrics) {
          const value = fields[Name];
          this.add(Name, Unit, labels, Array.isArray(value) ? (value as number[]) : [value as number]);
        }
      }
    }
  }

  private add(name: string, unit: string, labels: Labels, values: number[]): void {
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    let series = this.series.get(key);
    if (!series) this.series.set(key, (series = { name, unit, labels, values: [], sum: 0, count: 0 }));
    for (const value of values) {
      series.sum += value;
      series.count += 1;
      if (unit !== 'Count') series.values.push(value);
    }
    if (series.values.length > SUMMARY_WINDOW) series.values.splice(0, series.values.length - SUMMARY_WINDOW);
  }

  /** The sum of a metric's values over the series whose labels include `labels`. */
  total(name: string, labels: Labels = {}): number {
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
    const byName = new Map<string, Series[]>();
    for (const series of this.series.values()) byName.set(series.name, [...(byName.get(series.name) ?? []), series]);
    const lines: string[] = [];
    for (const [name, all] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
      const base = `parley_${name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()}`;
      const unit = all[0]!.unit;
      if (unit === 'Count') {
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

function labelsOf(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`).join(',')}}`;
}
