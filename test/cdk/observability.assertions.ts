import { Match } from 'aws-cdk-lib/assertions';
import { functions } from '../../lambdas/functions';
import { tables } from '../../lambdas/resources';
import { FAILED_BATCHES_FILTER, THRESHOLDS } from '../../lib/observability';
import { logicalIdOf, resourcesOf, synthParley, type Synthesized } from './fixture';

interface AlarmProperties {
  AlarmName: string;
  AlarmDescription: string;
  MetricName?: string;
  Namespace?: string;
  Threshold: number;
  ComparisonOperator: string;
  AlarmActions?: unknown[];
  OKActions?: unknown[];
  EvaluationPeriods?: number;
  DatapointsToAlarm?: number;
  Metrics?: { Expression?: string; MetricStat?: { Metric: { MetricName: string; Namespace: string; Dimensions?: unknown[] } } }[];
  Dimensions?: { Name: string; Value: unknown }[];
  ExtendedStatistic?: string;
}

let built: Synthesized;
let alarms: AlarmProperties[];
let topicRef: { Ref: string };

beforeAll(() => {
  built = synthParley({ 'parley:alarmEmails': 'oncall@example.com', 'parley:smsDailyBudget': 2000 });
  alarms = Object.values(resourcesOf<AlarmProperties>(built.template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
  topicRef = { Ref: logicalIdOf(built.stack.parley.observability.alertTopic as never) };
});

const alarmNamed = (suffix: string): AlarmProperties => {
  const found = alarms.find((alarm) => alarm.AlarmName === `Parley-${suffix}`);
  if (!found) throw new Error(`No alarm Parley-${suffix} among ${alarms.map((a) => a.AlarmName).join(', ')}`);
  return found;
};
const metricsOf = (alarm: AlarmProperties) => (alarm.Metrics ?? []).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []));

describe('observability', () => {
  it('makes an alert topic, TLS only, with the e-mail subscription given by context', () => {
    built.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: topicRef });
    built.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('alarms to an existing topic instead, when its ARN is given', () => {
    const arn = 'arn:aws:sns:us-east-1:123456789012:pager';
    const other = synthParley({ 'parley:alarmTopicArn': arn });
    other.template.resourceCountIs('AWS::SNS::Topic', 0);
    for (const alarm of Object.values(resourcesOf<AlarmProperties>(other.template, 'AWS::CloudWatch::Alarm'))) {
      if (alarm.Properties.AlarmActions) expect(alarm.Properties.AlarmActions).toEqual([arn]);
    }
  });

  it('refuses a malformed alarm topic ARN, bad e-mail addresses, or both destinations at once', () => {
    expect(() => synthParley({ 'parley:alarmTopicArn': 'pager' })).toThrow(/parley:alarmTopicArn must be an SNS topic ARN/);
    expect(() => synthParley({ 'parley:alarmEmails': 'not-an-address' })).toThrow(/parley:alarmEmails must be e-mail addresses/);
    expect(() =>
      synthParley({ 'parley:alarmEmails': 'a@example.com', 'parley:alarmTopicArn': 'arn:aws:sns:us-east-1:123456789012:pager' }),
    ).toThrow(/not both/);
  });

  it('sends every alarm with an action to the topic, and gives each a runbook entry', () => {
    const acting = [
      ...alarms.filter((alarm) => alarm.AlarmActions),
      ...Object.values(resourcesOf<AlarmProperties>(built.template, 'AWS::CloudWatch::CompositeAlarm')).map((a) => a.Properties),
    ];
    expect(acting.length).toBeGreaterThanOrEqual(12);
    for (const alarm of acting) {
      expect(alarm.AlarmActions).toEqual([topicRef]);
      expect(alarm.AlarmDescription).toMatch(/Runbook: docs\/operations\.md#[a-z-]+$/);
    }
  });

  it('notifies the topic of every alarm, on ALARM and on OK, but the two parts the INTERNAL composite pages for', () => {
    const parts = ['Parley-internal-error-rate', 'Parley-internal-error-count'];
    expect(alarms.filter((alarm) => parts.includes(alarm.AlarmName))).toHaveLength(2);
    for (const alarm of alarms.filter((a) => !parts.includes(a.AlarmName))) {
      expect({ name: alarm.AlarmName, alarm: alarm.AlarmActions, ok: alarm.OKActions }).toEqual({ name: alarm.AlarmName, alarm: [topicRef], ok: [topicRef] });
    }
  });

  it('alarms on p99 delivery latency above 500 ms, in the stack’s own namespace', () => {
    expect(alarmNamed('delivery-latency-p99')).toMatchObject({
      Namespace: 'Parley/Parley',
      MetricName: 'DeliveryLatency',
      ExtendedStatistic: 'p99',
      Threshold: 500,
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: [{ Name: 'service', Value: 'parley' }],
    });
  });

  it('alarms on the iterator age of every stream-invoked function above 60 s', () => {
    const streamFunctions = Object.entries(functions).filter(([, d]) => 'consumes' in d || 'onExpiry' in d);
    // Each message stream's fanout has its own: a group's backlog alarms apart from the 1:1 conversations'.
    expect(streamFunctions.map(([id]) => id)).toEqual(expect.arrayContaining(['fanout', 'groupFanout']));
    for (const [id] of streamFunctions) {
      expect(alarmNamed(`${id}-iterator-age`)).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'IteratorAge', Threshold: 60_000 });
    }
  });

  it('alarms on any batch written to the failed-deliveries bucket, counted by S3 request metrics', () => {
    const bucket = built.stack.parley.failedDeliveries;
    built.template.hasResourceProperties('AWS::S3::Bucket', { MetricsConfigurations: [{ Id: FAILED_BATCHES_FILTER }] });
    expect(logicalIdOf(bucket)).toBeDefined();
    expect(alarmNamed('failed-deliveries')).toMatchObject({ Namespace: 'AWS/S3', MetricName: 'PutRequests', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    for (const id of Object.keys(built.stack.parley.failedRecords)) {
      expect(alarmNamed(`${id}-failed-records`)).toMatchObject({ Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 0 });
    }
  });

  it('pages on INTERNAL errors only above 1% and at least 5 in 5 minutes (a composite alarm)', () => {
    const rate = alarmNamed('internal-error-rate');
    expect(rate.Threshold).toBe(THRESHOLDS.internalErrorPercent);
    expect(rate.Metrics!.some((m) => m.Expression?.includes('internal') && m.Expression.includes('requests'))).toBe(true);
    expect(metricsOf(rate).map((m) => m.MetricName).sort()).toEqual(['Requests', 'RouteErrors']);
    expect(rate.AlarmActions).toBeUndefined();
    expect(alarmNamed('internal-error-count')).toMatchObject({ MetricName: 'RouteErrors', Threshold: 5 });
    const [composite] = Object.values(resourcesOf<{ AlarmName: string; AlarmRule: unknown; AlarmActions: unknown }>(built.template, 'AWS::CloudWatch::CompositeAlarm'));
    expect(composite!.Properties).toMatchObject({ AlarmName: 'Parley-internal-errors', AlarmActions: [topicRef] });
    const rule = JSON.stringify(composite!.Properties.AlarmRule);
    expect(rule).toMatch(/ALARM\(.*\) AND ALARM\(/);
    expect(rule).toContain('InternalErrorRate');
    expect(rule).toContain('InternalErrorCount');
  });

  it('covers every function’s Lambda throttles and every table’s DynamoDB throttles', () => {
    for (const alarm of alarms.filter((a) => /(lambda|dynamodb)-throttles-\d+$/.test(a.AlarmName))) {
      expect(alarm).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 5, DatapointsToAlarm: 3 });
    }
    const throttled = alarms.filter((a) => /lambda-throttles-\d+$/.test(a.AlarmName)).flatMap(metricsOf);
    expect(throttled).toHaveLength(Object.keys(functions).length);
    expect(throttled.every((m) => m.MetricName === 'Throttles' && m.Namespace === 'AWS/Lambda')).toBe(true);
    const tableThrottles = alarms.filter((a) => /dynamodb-throttles-\d+$/.test(a.AlarmName)).flatMap(metricsOf);
    expect(tableThrottles).toHaveLength(2 * Object.keys(tables).length);
    expect(new Set(tableThrottles.map((m) => m.MetricName))).toEqual(new Set(['ReadThrottleEvents', 'WriteThrottleEvents']));
  });

  it('alarms on connections, the SMS budget, push failures and the delivery-ack rate', () => {
    expect(alarmNamed('connection-rate')).toMatchObject({ Namespace: 'AWS/ApiGateway', MetricName: 'ConnectCount', Threshold: 27_000 });
    expect(alarmNamed('sms-budget')).toMatchObject({ MetricName: 'SmsSent', Threshold: 1600, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    const push = alarmNamed('push-failures');
    expect(push.Threshold).toBe(10);
    expect(new Set(metricsOf(push).map((m) => m.MetricName))).toEqual(new Set(['Pushes']));
    const acks = alarmNamed('delivery-ack-rate');
    expect(acks).toMatchObject({ Threshold: 98, ComparisonOperator: 'LessThanThreshold' });
    expect(metricsOf(acks).map((m) => m.MetricName).sort()).toEqual(['MessagesDelivered', 'MessagesPushed']);
  });

  it('lays out one dashboard for on-call: traffic, delivery, errors, storage, push and keys, alarms', () => {
    const dashboards = resourcesOf<{ DashboardName: string; DashboardBody: unknown }>(built.template, 'AWS::CloudWatch::Dashboard');
    expect(Object.keys(dashboards)).toHaveLength(1);
    const { DashboardName, DashboardBody } = Object.values(dashboards)[0]!.Properties;
    expect(DashboardName).toBe('Parley');
    const body = JSON.stringify(built.stack.resolve(DashboardBody));
    const sections = [...body.matchAll(/## ([A-Za-z ]+)/g)].map((m) => m[1]);
    expect(sections).toEqual(['Traffic', 'Delivery', 'Errors', 'Storage', 'Push and keys', 'Alarms']);
    for (const title of [
      'Delivery latency (stamp → post), ms',
      'Stream consumers iterator age, ms',
      'Route errors by route and code',
      'Lambda errors',
      'Lambda throttles',
      'Lambda duration p99, ms',
      'DynamoDB throttle events per table',
      'DynamoDB consumed capacity per table',
      'SMS codes sent per hour',
      'Wake-up pushes by outcome',
      'PREKEYS_LOW notices',
    ]) {
      expect(body).toContain(title);
    }
    expect(body).toContain('RouteErrorsByRoute');
    expect(body).toContain('Media uploads per minute');
    expect(body).toMatch(/MediaUploads.{1,20}outcome.{1,20}granted/);
    expect(body).toContain('ApproximateNumberOfMessagesVisible');
  });

  it('gives every function the stack’s metrics namespace', () => {
    for (const fn of Object.values(built.stack.parley.functions)) {
      built.template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: Match.absent(),
        Environment: { Variables: Match.objectLike({ POWERTOOLS_METRICS_NAMESPACE: 'Parley/Parley' }) },
      });
      expect(fn).toBeDefined();
    }
  });
});
