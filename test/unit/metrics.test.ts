import { createMetrics, MetricUnit } from '../../lambdas/runtime/metrics';
import { MetricRegistry } from '../../lambdas/runtime/metric-registry';

const onLambda = { AWS_LAMBDA_FUNCTION_NAME: 'Parley-dev-send', POWERTOOLS_METRICS_NAMESPACE: 'Parley/Parley-dev', POWERTOOLS_SERVICE_NAME: 'parley' };

/** The lines written to stdout while `work` runs. */
function stdoutOf(work: () => void): string[] {
  const lines: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => (lines.push(...String(chunk).split('\n').filter(Boolean)), true));
  try {
    work();
  } finally {
    write.mockRestore();
  }
  return lines;
}

describe('metrics', () => {
  describe('createMetrics on Lambda', () => {
    it('prints one Embedded Metric Format line per dimension set, in the stack namespace, with the service dimension', () => {
      const registry = new MetricRegistry();
      const lines = stdoutOf(() => {
        const metrics = createMetrics(onLambda, registry);
        metrics.addMetric('LiveDeliveries', MetricUnit.Count, 1);
        metrics.addMetric('DeliveryLatency', MetricUnit.Milliseconds, 40);
        metrics.addMetric('DeliveryLatency', MetricUnit.Milliseconds, 60);
        metrics.singleMetric().addDimensions({ code: 'INTERNAL' }).addMetric('RouteErrors', MetricUnit.Count, 1);
        metrics.publishStoredMetrics();
      });
      const [single, stored] = lines.map((line) => JSON.parse(line));
      expect(lines).toHaveLength(2);
      expect(single).toMatchObject({
        _aws: { CloudWatchMetrics: [{ Namespace: 'Parley/Parley-dev', Dimensions: [['service', 'code']], Metrics: [{ Name: 'RouteErrors', Unit: 'Count' }] }] },
        service: 'parley',
        code: 'INTERNAL',
        RouteErrors: 1,
      });
      expect(stored).toMatchObject({
        _aws: { CloudWatchMetrics: [{ Dimensions: [['service']], Metrics: [{ Name: 'LiveDeliveries', Unit: 'Count' }, { Name: 'DeliveryLatency', Unit: 'Milliseconds' }] }] },
        LiveDeliveries: 1,
        DeliveryLatency: [40, 60],
      });
      expect(typeof stored._aws.Timestamp).toBe('number');
      expect(registry.total('LiveDeliveries')).toBe(0);
    });
  });

  describe('createMetrics elsewhere', () => {
    it('gives the registry what would have been printed, and prints nothing', () => {
      const registry = new MetricRegistry();
      const lines = stdoutOf(() => {
        const metrics = createMetrics({ POWERTOOLS_SERVICE_NAME: 'parley' }, registry);
        metrics.addMetric('LiveDeliveries', MetricUnit.Count, 2);
        metrics.singleMetric().addDimensions({ code: 'INTERNAL' }).addMetric('RouteErrors', MetricUnit.Count, 1);
        metrics.publishStoredMetrics();
        metrics.publishStoredMetrics(); // nothing left: nothing recorded twice
      });
      expect(lines).toEqual([]);
      expect(registry.total('LiveDeliveries')).toBe(2);
      expect(registry.total('RouteErrors', { code: 'INTERNAL' })).toBe(1);
      expect(registry.total('RouteErrors', { code: 'RATE_LIMITED' })).toBe(0);
    });

    it('flushes a metric once it holds 100 values, the most one EMF line takes', () => {
      const registry = new MetricRegistry();
      const record = jest.spyOn(registry, 'record');
      const metrics = createMetrics({}, registry);
      for (let i = 0; i < 150; i++) metrics.addMetric('DeliveryLatency', MetricUnit.Milliseconds, i);
      expect(record).toHaveBeenCalledTimes(1);
      metrics.publishStoredMetrics();
      expect(record).toHaveBeenCalledTimes(2);
      expect(registry.total('DeliveryLatency')).toBe((149 * 150) / 2);
    });
  });

  describe('MetricRegistry', () => {
    it('reads as Prometheus text: counters with _total, durations as summaries with p50 and p99', () => {
      const registry = new MetricRegistry();
      const metrics = createMetrics({ POWERTOOLS_SERVICE_NAME: 'parley' }, registry);
      metrics.singleMetric().addDimensions({ route: 'send', code: 'RATE_LIMITED' }).addMetric('RouteErrorsByRoute', MetricUnit.Count, 2);
      for (let i = 1; i <= 100; i++) metrics.addMetric('SyncDuration', MetricUnit.Milliseconds, i);
      metrics.publishStoredMetrics();
      const text = registry.prometheusText();
      expect(text).toContain('# TYPE parley_route_errors_by_route_total counter\nparley_route_errors_by_route_total{service="parley",route="send",code="RATE_LIMITED"} 2');
      expect(text).toContain('parley_sync_duration_milliseconds{service="parley",quantile="0.5"} 50');
      expect(text).toContain('parley_sync_duration_milliseconds{service="parley",quantile="0.99"} 99');
      expect(text).toContain('parley_sync_duration_milliseconds_count{service="parley"} 100');
    });

    it('hands what it is given to the sink it forwards to, and keeps none of it (a function thread to the main thread)', () => {
      const onThread = new MetricRegistry();
      const onMain = new MetricRegistry();
      onThread.forwardTo((emf) => onMain.record(structuredClone(emf)));
      const metrics = createMetrics({ POWERTOOLS_SERVICE_NAME: 'parley' }, onThread);
      metrics.singleMetric().addDimensions({ route: 'send' }).addMetric('MessagesAccepted', MetricUnit.Count, 3);
      expect(onThread.total('MessagesAccepted')).toBe(0);
      expect(onMain.total('MessagesAccepted', { route: 'send' })).toBe(3);
    });
  });
});
