import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { SendRateLimits } from '../lambdas/send/send-rate-limit';
import { Parley, type ParleyProps } from './parley';

/**
 * CDK context keys the stack reads (`cdk.json` or `cdk synth -c key=value`). Each is optional; an unset
 * key leaves the `Parley` default.
 */
export const CONTEXT = {
  stageName: 'parley:stageName',
  /** `retain` or `destroy`. */
  removalPolicy: 'parley:removalPolicy',
  /** One of the retention periods CloudWatch Logs offers, in days (1, 3, 5, 7, 14, 30, 60, 90, …). */
  logRetentionDays: 'parley:logRetentionDays',
  /** A positive integer makes the message stream provisioned; unset means on-demand. */
  messageStreamShards: 'parley:messageStreamShards',
  httpThrottleRate: 'parley:httpThrottleRate',
  httpThrottleBurst: 'parley:httpThrottleBurst',
  webSocketThrottleRate: 'parley:webSocketThrottleRate',
  webSocketThrottleBurst: 'parley:webSocketThrottleBurst',
  /** Each of the SEND and GROUP_SEND routes; both or neither. */
  messageThrottleRate: 'parley:messageThrottleRate',
  messageThrottleBurst: 'parley:messageThrottleBurst',
  /**
   * How fast one device may send, as a JSON object (or its text with `-c`):
   * `{"perDevice": {"burst": 300, "refillMs": 200}, "perRecipient": {"burst": 60, "refillMs": 1000}}`.
   */
  sendRateLimits: 'parley:sendRateLimits',
  /**
   * SNS platform application ARNs by push platform, as a JSON object (in cdk.json, or as its text with
   * `-c`): `{"apns": "arn:aws:sns:…:app/APNS/…", "fcm": "arn:aws:sns:…:app/GCM/…"}`. Unset: push is off.
   */
  pushPlatformApplications: 'parley:pushPlatformApplications',
  /** A positive integer: the most SMS codes sent in a UTC day. Unset: 10,000. */
  smsDailyBudget: 'parley:smsDailyBudget',
  /** E-mail addresses (one, comma-separated, or a JSON array in cdk.json) subscribed to the new alert topic. */
  alarmEmails: 'parley:alarmEmails',
  /** An existing SNS topic's ARN to alarm to instead of a new topic. */
  alarmTopicArn: 'parley:alarmTopicArn',
  /** A positive integer: the account's new-connections-per-second quota in the region. Unset: 500. */
  connectionRateLimit: 'parley:connectionRateLimit',
} as const;

/**
 * Parley as a deployable stack, configured from CDK context.
 *
 * @example
 * // cdk synth -c parley:stageName=dev -c parley:removalPolicy=destroy
 * new ParleyStack(app, 'Parley');
 */
export class ParleyStack extends Stack {
  public readonly parley: Parley;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, {
      description: 'Parley: end-to-end-encrypted chat relay (WebSocket and HTTP APIs, Lambda, DynamoDB, Kinesis)',
      ...props,
    });
    this.parley = new Parley(this, 'Parley', parleyPropsFromContext(this));
  }
}

/** Reads the `parley:*` context keys of `scope`, refusing values that are present but malformed. */
export function parleyPropsFromContext(scope: Construct): ParleyProps {
  const context = (key: string): unknown => {
    const value: unknown = scope.node.tryGetContext(key);
    return value === '' ? undefined : value;
  };
  const httpThrottle = throttle(context, CONTEXT.httpThrottleRate, CONTEXT.httpThrottleBurst);
  const webSocketThrottle = throttle(context, CONTEXT.webSocketThrottleRate, CONTEXT.webSocketThrottleBurst);
  const messageThrottle = throttle(context, CONTEXT.messageThrottleRate, CONTEXT.messageThrottleBurst);
  const sendRateLimits = context(CONTEXT.sendRateLimits);
  const stageName = context(CONTEXT.stageName);
  return {
    stageName: stageName === undefined ? undefined : String(stageName),
    removalPolicy: removalPolicy(context(CONTEXT.removalPolicy)),
    logRetention: retention(context(CONTEXT.logRetentionDays)),
    messageStreamShards: positiveInteger(CONTEXT.messageStreamShards, context(CONTEXT.messageStreamShards)),
    ...(httpThrottle ? { httpThrottle } : {}),
    ...(webSocketThrottle ? { webSocketThrottle } : {}),
    ...(messageThrottle ? { messageThrottle } : {}),
    ...(sendRateLimits === undefined ? {} : { sendRateLimits: sendRateLimitsOf(sendRateLimits) }),
    ...pushPlatformApplications(context(CONTEXT.pushPlatformApplications)),
    smsDailyBudget: positiveInteger(CONTEXT.smsDailyBudget, context(CONTEXT.smsDailyBudget)),
    connectionRateLimit: positiveInteger(CONTEXT.connectionRateLimit, context(CONTEXT.connectionRateLimit)),
    ...alerts(context(CONTEXT.alarmEmails), context(CONTEXT.alarmTopicArn)),
  };
}

function alerts(emails: unknown, topicArn: unknown): Pick<ParleyProps, 'alerts'> {
  if (emails === undefined && topicArn === undefined) return {};
  if (topicArn !== undefined && !(typeof topicArn === 'string' && /^arn:[^:]+:sns:[^:]+:\d{12}:[\w-]+$/.test(topicArn))) {
    throw new Error(`${CONTEXT.alarmTopicArn} must be an SNS topic ARN, not ${JSON.stringify(topicArn)}`);
  }
  const list = emails === undefined ? [] : Array.isArray(emails) ? emails : String(emails).split(',').map((email) => email.trim());
  if (!list.every((email) => typeof email === 'string' && /^[^@\s]+@[^@\s]+$/.test(email))) {
    throw new Error(`${CONTEXT.alarmEmails} must be e-mail addresses, not ${JSON.stringify(emails)}`);
  }
  if (topicArn !== undefined && list.length > 0) throw new Error(`Set ${CONTEXT.alarmEmails} or ${CONTEXT.alarmTopicArn}, not both`);
  return { alerts: topicArn !== undefined ? { topicArn: topicArn as string } : { emails: list as string[] } };
}

/** The object itself (cdk.json) or its JSON text (`-c`); each ARN is checked where the functions are made. */
function pushPlatformApplications(value: unknown): Pick<ParleyProps, 'pushPlatformApplications'> {
  if (value === undefined) return {};
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = undefined;
    }
  }
  const isStringMap =
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && Object.values(parsed).every((arn) => typeof arn === 'string');
  if (!isStringMap) {
    throw new Error(`${CONTEXT.pushPlatformApplications} must be a JSON object of platform → ARN, not ${JSON.stringify(value)}`);
  }
  return { pushPlatformApplications: parsed as ParleyProps['pushPlatformApplications'] };
}

function sendRateLimitsOf(value: unknown): SendRateLimits {
  try {
    return SendRateLimits.parse(typeof value === 'string' ? JSON.parse(value) : value);
  } catch {
    throw new Error(`${CONTEXT.sendRateLimits} must be {"perDevice": {burst, refillMs}, "perRecipient": {burst, refillMs}} of positive integers, not ${JSON.stringify(value)}`);
  }
}

function removalPolicy(value: unknown): RemovalPolicy | undefined {
  if (value === undefined) return undefined;
  if (value === 'retain') return RemovalPolicy.RETAIN;
  if (value === 'destroy') return RemovalPolicy.DESTROY;
  throw new Error(`${CONTEXT.removalPolicy} must be 'retain' or 'destroy', not ${JSON.stringify(value)}`);
}

function retention(value: unknown): RetentionDays | undefined {
  const days = positiveInteger(CONTEXT.logRetentionDays, value);
  if (days === undefined) return undefined;
  const allowed = Object.values(RetentionDays).filter((v): v is number => typeof v === 'number');
  if (!allowed.includes(days)) {
    throw new Error(`${CONTEXT.logRetentionDays} must be one of ${allowed.join(', ')}, not ${days}`);
  }
  return days as RetentionDays;
}

function throttle(context: (key: string) => unknown, rateKey: string, burstKey: string): ThrottleSettings | undefined {
  const rateLimit = positiveInteger(rateKey, context(rateKey));
  const burstLimit = positiveInteger(burstKey, context(burstKey));
  if (rateLimit === undefined && burstLimit === undefined) return undefined;
  if (rateLimit === undefined || burstLimit === undefined) {
    throw new Error(`Set both ${rateKey} and ${burstKey}, or neither`);
  }
  return { rateLimit, burstLimit };
}

/** Context from `cdk.json` arrives as JSON, from `-c` as a string: both are accepted. */
function positiveInteger(key: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number <= 0) {
    throw new Error(`${key} must be a positive integer, not ${JSON.stringify(value)}`);
  }
  return number;
}
