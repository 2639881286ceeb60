import { emfSink, Metrics, MetricUnit, MetricRegistry } from '../../lambdas/runtime/metrics';

describe('metrics', () => {
  describe('emfSink', () => {
    it('prints one Embedded Metric Format line per dimension set, values under their names', () => {
      const lines: string[] = [];
      const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => (lines.push(String(chunk)), true));
      try {
        const metrics = new Metrics({ namespace: 'Parley/Parley-dev', serviceName: 'parley', sink: emfSink });
        metrics.addMetric('LiveDeliveries', MetricUnit.Count, 1);
        metrics.addMetric('DeliveryLatency', MetricUnit.Milliseconds, 40);
        metrics.addMetric('DeliveryLatency', MetricUnit.Milliseconds, 60);
        metrics.singleMetric().addDimensions({ code: 'INTERNAL' }).addMetric('RouteErrors', MetricUnit.Count, 1);
        metrics.publishStoredMetrics();
        metrics.publishStoredMetrics(); // nothing left: no line
      } finally {
        write.mockRestore();
      }
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
    });

    it('flushes a metric once it holds 100 values, the most one EMF line takes', () => {
      const registry = new MetricRegistry();
      const publish = jest.spyOn(registry, 'publish');
      const metrics = new Metrics({ namespace: 'Parley', serviceName: 'parley', sink: registry });
      for (let i = 0; i < 150; i++) metrics.addMetric('DeliveryLatency', MetricUnit.Milliseconds, i);
      expect(publish).toHaveBeenCalledTimes(1);
      metrics.publishStoredMetrics();
      expect(publish).toHaveBeenCalledTimes(2);
      expect(registry.total('DeliveryLatency' as never)).toBe((149 * 150) / 2);
    });
  });

  describe('MetricRegistry', () => {
    it('reads as Prometheus text: counters with _total, durations as summaries with p50 and p99', () => {
      const registry = new MetricRegistry();
      const metrics = new Metrics({ namespace: 'Parley', serviceName: 'parley', sink: registry });
      metrics.singleMetric().addDimensions({ route: 'send', code: 'RATE_LIMITED' }).addMetric('RouteErrorsByRoute', MetricUnit.Count, 2);
      for (let i = 1; i <= 100; i++) metrics.addMetric('SyncDuration', MetricUnit.Milliseconds, i);
      metrics.publishStoredMetrics();
      const text = registry.prometheusText();
      expect(text).toContain('# TYPE parley_route_errors_by_route_total counter\nparley_route_errors_by_route_total{service="parley",route="send",code="RATE_LIMITED"} 2');
      expect(text).toContain('parley_sync_duration_milliseconds{service="parley",quantile="0.5"} 50');
      expect(text).toContain('parley_sync_duration_milliseconds{service="parley",quantile="0.99"} 99');
      expect(text).toContain('parley_sync_duration_milliseconds_count{service="parley"} 100');
    });
  });
});
