import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC, metricsNamespaceOf, type MetricName } from '../lambdas/runtime/metrics';
import { SERVICE_NAME } from '../lambdas/function-environment';
import { entriesOf } from './definitions';

/** Where alarms go: a new topic with an e-mail subscription, or an existing topic. */
export interface AlertDestination {
  /** E-mail addresses subscribed to the new alert topic (each confirms by mail). @default none */
  readonly emails?: readonly string[];
  /** An existing SNS topic to alarm to instead of a new one (e.g. an on-call pager's). @default - a new topic */
  readonly topicArn?: string;
}

export interface ParleyObservabilityProps {
  readonly functions: Readonly<Record<string, IFunction>>;
  /** Functions invoked by a stream (Kinesis or a table's): their iterator age is alarmed. */
  readonly streamFunctions: Readonly<Record<string, IFunction>>;
  readonly tables: Readonly<Record<string, TableV2>>;
  readonly webSocketStage: WebSocketStage;
  /** The bucket of message-stream batches the fanout gave up on. */
  readonly failedDeliveries: Bucket;
  /** The on-failure queues of the expiry consumers. */
  readonly failedRecords: Readonly<Record<string, Queue>>;
  readonly alerts?: AlertDestination;
  /** SMS codes a UTC day may send (the refusal threshold); the alarm fires at 80% of it. @default 10,000 */
  readonly smsDailyBudget?: number;
  /**
   * New WebSocket connections per second the account may open in this region (API Gateway's quota, 500
   * unless raised); the alarm fires at 90% of it.
   * @default 500
   */
  readonly connectionRateLimit?: number;
}

/** The thresholds of the alarms, as docs/operations.md states them. */
export const THRESHOLDS = {
  deliveryLatencyP99Ms: 500,
  iteratorAgeMs: 60_000,
  internalErrorPercent: 1,
  /** Fewer INTERNAL answers than this in 5 minutes never page, whatever the rate. */
  internalErrorMinimum: 5,
  connectionRateShare: 0.9,
  smsBudgetShare: 0.8,
  pushFailurePercent: 10,
  pushMinimum: 20,
  deliveryAckPercent: 98,
  deliveryAckMinimum: 100,
} as const;

/** CloudWatch metric math takes at most 10 metrics per alarm: larger sets are alarmed in groups. */
const METRICS_PER_ALARM = 10;

/**
 * Operations of one Parley deployment: the alert topic, one CloudWatch dashboard laid out for on-call
 * (traffic, delivery, errors, storage, push and keys) and the alarms of docs/operations.md, each to the topic.
 */
export class ParleyObservability extends Construct {
  public readonly alertTopic: sns.ITopic;
  public readonly dashboard: cloudwatch.Dashboard;
  /** Every alarm with an action, by the name docs/operations.md gives its runbook entry. */
  public readonly alarms: Record<string, cloudwatch.IAlarm> = {};
  private readonly namespace: string;

  constructor(scope: Construct, id: string, private readonly props: ParleyObservabilityProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    this.namespace = metricsNamespaceOf(stackName);

    if (props.alerts?.topicArn) {
      this.alertTopic = sns.Topic.fromTopicArn(this, 'AlertTopic', props.alerts.topicArn);
    } else {
      const topic = new sns.Topic(this, 'AlertTopic', {
        displayName: `${stackName} alarms`,
        enforceSSL: true,
      });
      for (const email of props.alerts?.emails ?? []) topic.addSubscription(new subscriptions.EmailSubscription(email));
      this.alertTopic = topic;
    }

    this.makeAlarms();
    this.dashboard = this.makeDashboard(stackName);
  }

  /** A Parley metric of `name`, with the `service` dimension every Parley metric carries and `dimensions`. */
  public metric(name: MetricName, statistic: string, dimensions: Record<string, string> = {}, period = Duration.minutes(1)): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName: name,
      dimensionsMap: { service: SERVICE_NAME, ...dimensions },
      statistic,
      period,
    });
  }

  private alarm(name: string, alarm: cloudwatch.Alarm | cloudwatch.CompositeAlarm): void {
    alarm.addAlarmAction(new actions.SnsAction(this.alertTopic));
    alarm.addOkAction(new actions.SnsAction(this.alertTopic));
    this.alarms[name] = alarm;
  }

  private makeAlarms(): void {
    const { props } = this;
    const stackName = Stack.of(this).stackName;
    const description = (runbook: string, text: string) => `${text} Runbook: docs/operations.md#${runbook}`;

    this.alarm(
      'delivery-latency',
      new cloudwatch.Alarm(this, 'DeliveryLatencyAlarm', {
        alarmName: `${stackName}-delivery-latency-p99`,
        alarmDescription: description('delivery-latency', 'p99 of SEND stamp → @connections post above 500 ms for 3 of 5 minutes.'),
        metric: this.metric(METRIC.deliveryLatency, 'p99'),
        threshold: THRESHOLDS.deliveryLatencyP99Ms,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    for (const [functionId, fn] of entriesOf(props.streamFunctions)) {
      this.alarm(
        `iterator-age-${functionId}`,
        new cloudwatch.Alarm(this, `${functionId}IteratorAgeAlarm`, {
          alarmName: `${stackName}-${functionId}-iterator-age`,
          alarmDescription: description('iterator-age', `${functionId} is more than 60 s behind its stream for 3 minutes.`),
          metric: fn.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) }),
          threshold: THRESHOLDS.iteratorAgeMs,
          evaluationPeriods: 3,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }

    // The fanout cannot count what it gave up on (Lambda writes the batch after the last failed try), so
    // S3 counts it: request metrics on the bucket, filter `FailedBatches`, publish its PutRequests.
    props.failedDeliveries.addMetric({ id: FAILED_BATCHES_FILTER });
    this.alarm(
      'failed-deliveries',
      new cloudwatch.Alarm(this, 'FailedDeliveriesAlarm', {
        alarmName: `${stackName}-failed-deliveries`,
        alarmDescription: description('failed-deliveries', 'A message-stream batch failed every retry and was written to the failed-deliveries bucket.'),
        metric: this.failedBatchesWritten(),
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
    for (const [functionId, queue] of entriesOf(props.failedRecords)) {
      this.alarm(
        `failed-records-${functionId}`,
        new cloudwatch.Alarm(this, `${functionId}FailedRecordsAlarm`, {
          alarmName: `${stackName}-${functionId}-failed-records`,
          alarmDescription: description('failed-records', `${functionId} gave up on TTL-deletion records: they wait in its on-failure queue.`),
          metric: queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(5) }),
          threshold: 0,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }

    // INTERNAL above 1% of requests for 5 minutes, and at least 5 of them: one failure in a quiet night's
    // twenty requests is not a page.
    const internal = this.metric(METRIC.routeErrors, 'Sum', { code: 'INTERNAL' }, Duration.minutes(5));
    const requests = this.metric(METRIC.requests, 'Sum', {}, Duration.minutes(5));
    const internalRate = new cloudwatch.Alarm(this, 'InternalErrorRate', {
      alarmName: `${stackName}-internal-error-rate`,
      alarmDescription: 'Part of the internal-errors composite: INTERNAL answers above 1% of requests.',
      metric: new cloudwatch.MathExpression({
        expression: '100 * FILL(internal, 0) / MAX([FILL(requests, 0), 1])',
        usingMetrics: { internal, requests },
        label: 'INTERNAL %',
        period: Duration.minutes(5),
      }),
      threshold: THRESHOLDS.internalErrorPercent,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const internalCount = new cloudwatch.Alarm(this, 'InternalErrorCount', {
      alarmName: `${stackName}-internal-error-count`,
      alarmDescription: 'Part of the internal-errors composite: at least 5 INTERNAL answers in 5 minutes.',
      metric: internal,
      threshold: THRESHOLDS.internalErrorMinimum,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarm(
      'internal-errors',
      new cloudwatch.CompositeAlarm(this, 'InternalErrorsAlarm', {
        compositeAlarmName: `${stackName}-internal-errors`,
        alarmDescription: description('internal-errors', 'INTERNAL answers above 1% of requests (and at least 5) for 5 minutes.'),
        alarmRule: cloudwatch.AlarmRule.allOf(internalRate, internalCount),
      }),
    );

    // Lambda throttles and DynamoDB throttles, summed by metric math in groups of what one alarm may read.
    const functions = entriesOf(props.functions);
    groupsOf(functions, METRICS_PER_ALARM).forEach((group, index) => {
      const usingMetrics = Object.fromEntries(group.map(([, fn], i) => [`t${i}`, fn.metricThrottles({ statistic: 'Sum', period: Duration.minutes(1) })]));
      this.alarm(
        `lambda-throttles-${index + 1}`,
        new cloudwatch.Alarm(this, `LambdaThrottles${index + 1}Alarm`, {
          alarmName: `${stackName}-lambda-throttles-${index + 1}`,
          alarmDescription: description('lambda-throttles', `Lambda throttled ${group.map(([id]) => id).join(', ')} in 3 of 5 minutes.`),
          metric: new cloudwatch.MathExpression({ expression: `SUM([${Object.keys(usingMetrics).join(', ')}])`, usingMetrics, label: 'Throttles', period: Duration.minutes(1) }),
          threshold: 0,
          evaluationPeriods: 5,
          datapointsToAlarm: 3,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    });
    groupsOf(entriesOf(props.tables), METRICS_PER_ALARM / 2).forEach((group, index) => {
      const usingMetrics: Record<string, cloudwatch.IMetric> = {};
      group.forEach(([, table], i) => {
        usingMetrics[`r${i}`] = tableMetric(table, 'ReadThrottleEvents');
        usingMetrics[`w${i}`] = tableMetric(table, 'WriteThrottleEvents');
      });
      this.alarm(
        `dynamodb-throttles-${index + 1}`,
        new cloudwatch.Alarm(this, `DynamoDbThrottles${index + 1}Alarm`, {
          alarmName: `${stackName}-dynamodb-throttles-${index + 1}`,
          alarmDescription: description('dynamodb-throttles', `DynamoDB throttled ${group.map(([id]) => id).join(', ')} in 3 of 5 minutes.`),
          metric: new cloudwatch.MathExpression({ expression: `SUM([${Object.keys(usingMetrics).join(', ')}])`, usingMetrics, label: 'Throttle events', period: Duration.minutes(1) }),
          threshold: 0,
          evaluationPeriods: 5,
          datapointsToAlarm: 3,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    });

    const connectionRate = props.connectionRateLimit ?? 500;
    this.alarm(
      'connection-rate',
      new cloudwatch.Alarm(this, 'ConnectionRateAlarm', {
        alarmName: `${stackName}-connection-rate`,
        alarmDescription: description('connection-rate', `New connections above 90% of the account's ${connectionRate}/s for 3 minutes.`),
        metric: this.connectCount(),
        threshold: Math.floor(THRESHOLDS.connectionRateShare * connectionRate * 60),
        evaluationPeriods: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    const smsBudget = props.smsDailyBudget ?? 10_000;
    this.alarm(
      'sms-budget',
      new cloudwatch.Alarm(this, 'SmsBudgetAlarm', {
        alarmName: `${stackName}-sms-budget`,
        alarmDescription: description('sms-budget', `SMS codes sent in a day passed 80% of the daily budget of ${smsBudget}; past 100% codes are refused.`),
        metric: this.metric(METRIC.smsSent, 'Sum', {}, Duration.days(1)),
        threshold: Math.floor(THRESHOLDS.smsBudgetShare * smsBudget),
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    const period = Duration.minutes(15);
    const pushMetrics = {
      sent: this.metric(METRIC.pushes, 'Sum', { outcome: 'sent' }, period),
      failed: this.metric(METRIC.pushes, 'Sum', { outcome: 'failed' }, period),
      forgotten: this.metric(METRIC.pushes, 'Sum', { outcome: 'forgotten' }, period),
    };
    this.alarm(
      'push-failures',
      new cloudwatch.Alarm(this, 'PushFailuresAlarm', {
        alarmName: `${stackName}-push-failures`,
        alarmDescription: description('push-failures', 'More than 10% of wake-up pushes failed over 15 minutes (at least 20 pushes).'),
        // Below 20 pushes the rate reads 0: a handful of failures is noise.
        metric: new cloudwatch.MathExpression({
          expression: `IF(FILL(sent, 0) + FILL(failed, 0) + FILL(forgotten, 0) >= ${THRESHOLDS.pushMinimum}, 100 * FILL(failed, 0) / (FILL(sent, 0) + FILL(failed, 0) + FILL(forgotten, 0)), 0)`,
          usingMetrics: pushMetrics,
          label: 'Push failure %',
          period,
        }),
        threshold: THRESHOLDS.pushFailurePercent,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    const pushed = this.metric(METRIC.messagesPushed, 'Sum', {}, period);
    const delivered = this.metric(METRIC.messagesDelivered, 'Sum', {}, period);
    this.alarm(
      'delivery-acks',
      new cloudwatch.Alarm(this, 'DeliveryAcksAlarm', {
        alarmName: `${stackName}-delivery-ack-rate`,
        alarmDescription: description('delivery-acks', 'Fewer DELIVERED acknowledgements than 98% of messages pushed live, over two 15-minute periods (at least 100 pushed).'),
        metric: new cloudwatch.MathExpression({
          expression: `IF(FILL(pushed, 0) >= ${THRESHOLDS.deliveryAckMinimum}, 100 * FILL(delivered, 0) / pushed, 100)`,
          usingMetrics: { pushed, delivered },
          label: 'Acknowledged %',
          period,
        }),
        threshold: THRESHOLDS.deliveryAckPercent,
        evaluationPeriods: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  private connectCount(): cloudwatch.Metric {
    const stage = this.props.webSocketStage;
    return new cloudwatch.Metric({
      namespace: 'AWS/ApiGateway',
      metricName: 'ConnectCount',
      dimensionsMap: { ApiId: stage.api.apiId, Stage: stage.stageName },
      statistic: 'Sum',
      period: Duration.minutes(1),
    });
  }

  private failedBatchesWritten(): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/S3',
      metricName: 'PutRequests',
      dimensionsMap: { BucketName: this.props.failedDeliveries.bucketName, FilterId: FAILED_BATCHES_FILTER },
      statistic: 'Sum',
      period: Duration.minutes(5),
    });
  }

  private makeDashboard(stackName: string): cloudwatch.Dashboard {
    const { props } = this;
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: stackName,
      defaultInterval: Duration.hours(3),
    });
    const search = (metricName: MetricName, dimensions: string[], statistic = 'Sum') =>
      `SEARCH('{${this.namespace},${['service', ...dimensions].join(',')}} MetricName="${metricName}"', '${statistic}', 60)`;
    const section = (title: string) => new cloudwatch.TextWidget({ markdown: `## ${title}`, width: 24, height: 1 });
    const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = [], width = 8) =>
      new cloudwatch.GraphWidget({ title, left, right, width, height: 6 });
    const perFunction = (title: string, metricOf: (fn: IFunction) => cloudwatch.IMetric) =>
      graph(title, entriesOf(props.functions).map(([, fn]) => metricOf(fn)), [], 8);

    dashboard.addWidgets(
      section('Traffic'),
      graph('Connections opened / closed per minute', [this.metric(METRIC.connectionsOpened, 'Sum'), this.metric(METRIC.connectionsClosed, 'Sum')], [this.connectCount()], 6),
      graph('Messages accepted per minute', [
        this.metric(METRIC.messagesAccepted, 'Sum', { route: 'send' }),
        this.metric(METRIC.messagesAccepted, 'Sum', { route: 'groupSend' }),
      ], [], 6),
      graph('Media uploads per minute', [
        this.metric(METRIC.mediaUploads, 'Sum', { outcome: 'granted' }),
        this.metric(METRIC.mediaUploads, 'Sum', { outcome: 'deduplicated' }),
      ], [], 6),
      graph('Presence changes per minute', [
        this.metric(METRIC.presenceChanges, 'Sum', { state: 'online' }),
        this.metric(METRIC.presenceChanges, 'Sum', { state: 'offline' }),
      ], [], 6),
      graph('SMS codes sent per hour', [this.metric(METRIC.smsSent, 'Sum', {}, Duration.hours(1))], [], 6),
    );
    dashboard.addWidgets(
      section('Delivery'),
      graph('Delivery latency (stamp → post), ms', [this.metric(METRIC.deliveryLatency, 'p50'), this.metric(METRIC.deliveryLatency, 'p99')]),
      graph(
        'Stream consumers iterator age, ms',
        entriesOf(props.streamFunctions).map(([, fn]) => fn.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) })),
      ),
      graph('Live / queued offline / acknowledged per minute', [
        this.metric(METRIC.messagesPushed, 'Sum'),
        this.metric(METRIC.queuedOffline, 'Sum'),
        this.metric(METRIC.messagesDelivered, 'Sum'),
        this.metric(METRIC.readReceipts, 'Sum'),
      ]),
      graph(
        'Failed stream records; batches given up; on-failure queues',
        [new cloudwatch.MathExpression({ expression: search(METRIC.streamRecordsFailed, ['consumer']), label: '', period: Duration.minutes(1) }), this.failedBatchesWritten()],
        entriesOf(props.failedRecords).map(([, queue]) => queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum' })),
      ),
      graph('SYNC pages and duration', [this.metric(METRIC.syncPages, 'Sum'), this.metric(METRIC.syncFrames, 'Sum')], [this.metric(METRIC.syncDuration, 'p99')]),
      graph('Gone connections cleaned per minute', [this.metric(METRIC.goneConnections, 'Sum')]),
    );
    dashboard.addWidgets(
      section('Errors'),
      graph(
        'Route errors by route and code',
        [new cloudwatch.MathExpression({ expression: search(METRIC.routeErrorsByRoute, ['route', 'code']), label: '', period: Duration.minutes(1) })],
        [],
        12,
      ),
      graph('INTERNAL answers and requests', [this.metric(METRIC.routeErrors, 'Sum', { code: 'INTERNAL' })], [this.metric(METRIC.requests, 'Sum')], 12),
      perFunction('Lambda errors', (fn) => fn.metricErrors({ period: Duration.minutes(1) })),
      perFunction('Lambda throttles', (fn) => fn.metricThrottles({ period: Duration.minutes(1) })),
      perFunction('Lambda duration p99, ms', (fn) => fn.metricDuration({ statistic: 'p99', period: Duration.minutes(1) })),
    );
    dashboard.addWidgets(
      section('Storage'),
      graph(
        'DynamoDB throttle events per table',
        entriesOf(props.tables).flatMap(([, table]) => [tableMetric(table, 'ReadThrottleEvents'), tableMetric(table, 'WriteThrottleEvents')]),
        [],
        12,
      ),
      graph(
        'DynamoDB consumed capacity per table',
        entriesOf(props.tables).flatMap(([, table]) => [tableMetric(table, 'ConsumedReadCapacityUnits'), tableMetric(table, 'ConsumedWriteCapacityUnits')]),
        [],
        12,
      ),
    );
    dashboard.addWidgets(
      section('Push and keys'),
      graph('Wake-up pushes by outcome', [
        this.metric(METRIC.pushes, 'Sum', { outcome: 'sent' }),
        this.metric(METRIC.pushes, 'Sum', { outcome: 'failed' }),
        this.metric(METRIC.pushes, 'Sum', { outcome: 'forgotten' }),
      ], [], 12),
      graph('PREKEYS_LOW notices', [this.metric(METRIC.prekeyLowNotices, 'Sum')], [], 12),
    );
    dashboard.addWidgets(section('Alarms'), new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: Object.values(this.alarms), width: 24, height: 6 }));
    return dashboard;
  }
}

/** The request-metrics filter of the failed-deliveries bucket (all its objects). */
export const FAILED_BATCHES_FILTER = 'FailedBatches';

function tableMetric(table: TableV2, metricName: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/DynamoDB',
    metricName,
    dimensionsMap: { TableName: table.tableName },
    statistic: 'Sum',
    period: Duration.minutes(1),
  });
}

function groupsOf<T>(items: readonly T[], size: number): T[][] {
  const groups: T[][] = [];
  for (let i = 0; i < items.length; i += size) groups.push(items.slice(i, i + size));
  return groups;
}
