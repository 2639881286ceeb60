import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { LogGroupLogDestination, type IAccessLogSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

export interface AccessLogOptions {
  readonly retention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * JSON access log lines, one per request or WebSocket event. They carry ids, statuses, latencies and
 * errors, never the caller's IP address: a relay that forgets messages keeps no more metadata than it needs.
 */
const FIELDS = {
  webSocket: {
    requestId: '$context.requestId',
    extendedRequestId: '$context.extendedRequestId',
    requestTimeEpoch: '$context.requestTimeEpoch',
    eventType: '$context.eventType',
    routeKey: '$context.routeKey',
    connectionId: '$context.connectionId',
    status: '$context.status',
    error: '$context.error.message',
    authorizerError: '$context.authorizer.error',
    integrationError: '$context.integrationErrorMessage',
    integrationLatency: '$context.integration.latency',
  },
  http: {
    requestId: '$context.requestId',
    requestTimeEpoch: '$context.requestTimeEpoch',
    routeKey: '$context.routeKey',
    status: '$context.status',
    protocol: '$context.protocol',
    responseLength: '$context.responseLength',
    responseLatency: '$context.responseLatency',
    integrationLatency: '$context.integrationLatency',
    error: '$context.error.message',
    authorizerError: '$context.authorizer.error',
    integrationError: '$context.integrationErrorMessage',
  },
} as const;

/** A log group and the stage access-log settings that write JSON lines to it. */
export function accessLogs(
  scope: Construct,
  kind: keyof typeof FIELDS,
  options: AccessLogOptions,
): { logGroup: logs.LogGroup; settings: IAccessLogSettings } {
  const logGroup = new logs.LogGroup(scope, 'AccessLogs', {
    retention: options.retention,
    removalPolicy: options.removalPolicy,
  });
  return {
    logGroup,
    settings: {
      destination: new LogGroupLogDestination(logGroup),
      format: AccessLogFormat.custom(JSON.stringify(FIELDS[kind])),
    },
  };
}
