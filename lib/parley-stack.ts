import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { SendRateLimits } from '../lambdas/send/send-rate-limit';
import { TRACING_MODES, type LogLevel, type TracingMode } from './functions';
import { DEFAULT_STAGE_NAME, Parley, type ParleyProps } from './parley';
import { checkMemorySettings } from './memory-sizes';
import { stackNameOfStage } from './stack-outputs';

/**
 * CDK context keys the stack reads (`cdk.json` or `cdk synth -c key=value`). Each is optional; an unset
 * key leaves the `Parley` default.
 */
export const CONTEXT = {
  /**
   * The stage: the WebSocket stage's name and the stack's (`Parley-<stage>`), so that stages deploy side by
   * side in one account. Letters, digits and hyphens. Unset: `prod`.
   */
  stageName: 'parley:stageName',
  /** The stack's name instead of `Parley-<stage>`, e.g. `Parley` to keep updating a stack deployed under that name. */
  stackName: 'parley:stackName',
  /** `true` or `false`: deletion protection on the account, device, key and queue tables. Unset: on for the `prod` stage only. */
  protectData: 'parley:protectData',
  /** Memory of every function, in MB (128 to 10,240). Unset: per function, 512 or 1,024 on the message path, 256 elsewhere (lib/memory-sizes.ts). */
  memorySize: 'parley:memorySize',
  /** Memory of single functions, MB, over `parley:memorySize`, as a JSON object (or its text with `-c`): `{"fanout": 2048}`. */
  memorySizes: 'parley:memorySizes',
  /**
   * `active` or `subsegments`: X-Ray with Lambda's active tracing alone (no X-Ray SDK in the bundles), or
   * with the SDK's subsegment of every AWS call besides (lib/functions.ts, `TracingMode`). Unset: active.
   */
  tracing: 'parley:tracing',
  /** Powertools log level of every function: DEBUG, INFO, WARN, ERROR, CRITICAL or SILENT. Unset: INFO. */
  logLevel: 'parley:logLevel',
  /** 0 to 1: the share of invocations that log at DEBUG whatever the level. Unset: 0. */
  logSampleRate: 'parley:logSampleRate',
  /** A positive integer: reserved concurrency of each function. Unset: none reserved. */
  reservedConcurrency: 'parley:reservedConcurrency',
  /** The open SMS route `POST /v1/verification/code`, apart from the rest of the HTTP API; both or neither. Unset: 5/s, bursts of 10. */
  smsThrottleRate: 'parley:smsThrottleRate',
  smsThrottleBurst: 'parley:smsThrottleBurst',
  /** `false` leaves API Gateway's account-wide logging role to whatever already sets it (another stage, a landing zone). Unset: true. */
  apiGatewayLoggingRole: 'parley:apiGatewayLoggingRole',
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
  /** The TYPING route; both or neither. */
  typingThrottleRate: 'parley:typingThrottleRate',
  typingThrottleBurst: 'parley:typingThrottleBurst',
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

const LOG_LEVELS: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'];

/** The stage named by `parley:stageName` in `scope`'s context, or `prod`. */
export function stageNameOf(scope: Construct): string {
  const value: unknown = scope.node.tryGetContext(CONTEXT.stageName);
  const stageName = value === undefined || value === '' ? DEFAULT_STAGE_NAME : String(value);
  // A WebSocket stage name and a CloudFormation stack name both allow these; `Parley-` makes the start a letter.
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/.test(stageName)) {
    throw new Error(`${CONTEXT.stageName} must be letters, digits and hyphens (at most 64), not ${JSON.stringify(value)}`);
  }
  return stageName;
}

/** The stack a stage deploys as: `parley:stackName` if set, else `Parley-<stage>` (`stackNameOfStage`). */
export function stackNameOf(scope: Construct): string {
  const value: unknown = scope.node.tryGetContext(CONTEXT.stackName);
  if (value === undefined || value === '') return stackNameOfStage(stageNameOf(scope));
  if (typeof value !== 'string' || !/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(value)) {
    throw new Error(`${CONTEXT.stackName} must be a CloudFormation stack name, not ${JSON.stringify(value)}`);
  }
  return value;
}

export interface ParleyStackProps extends StackProps {
  /**
   * The stage, over `parley:stageName`: how one app holds several stages (each stack reads the rest of the
   * `parley:*` context as the app has it).
   * @default - `parley:stageName`, or 'prod'
   */
  readonly stageName?: string;
}

/**
 * Parley as a deployable stack, configured from CDK context. `bin/parley.ts` names it after its stage.
 *
 * @example
 * // cdk synth -c parley:stageName=dev -c parley:removalPolicy=destroy  →  stack Parley-dev
 * new ParleyStack(app, stackNameOf(app));
 */
export class ParleyStack extends Stack {
  public readonly parley: Parley;
  /** The stage this stack deploys (`parley:stageName`, or the `stageName` prop). */
  public readonly stageName: string;

  constructor(scope: Construct, id: string, props: ParleyStackProps = {}) {
    const { stageName, ...stackProps } = props;
    super(scope, id, {
      description: 'Parley: end-to-end-encrypted chat relay (WebSocket and HTTP APIs, Lambda, DynamoDB, Kinesis)',
      ...stackProps,
    });
    // Set before any child exists, so that everything below reads this stage.
    if (stageName !== undefined) this.node.setContext(CONTEXT.stageName, stageName);
    this.stageName = stageNameOf(this);
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
  const typingThrottle = throttle(context, CONTEXT.typingThrottleRate, CONTEXT.typingThrottleBurst);
  const smsThrottle = throttle(context, CONTEXT.smsThrottleRate, CONTEXT.smsThrottleBurst);
  const sendRateLimits = context(CONTEXT.sendRateLimits);
  const protectData = bool(CONTEXT.protectData, context(CONTEXT.protectData));
  const apiGatewayLoggingRole = bool(CONTEXT.apiGatewayLoggingRole, context(CONTEXT.apiGatewayLoggingRole));
  const memorySize = positiveInteger(CONTEXT.memorySize, context(CONTEXT.memorySize));
  if (memorySize !== undefined && (memorySize < 128 || memorySize > 10240)) {
    throw new Error(`${CONTEXT.memorySize} must be 128 to 10240 (MB), not ${memorySize}`);
  }
  const memorySizes = memorySizesOf(context(CONTEXT.memorySizes));
  const reservedConcurrency = positiveInteger(CONTEXT.reservedConcurrency, context(CONTEXT.reservedConcurrency));
  const logLevel = context(CONTEXT.logLevel);
  if (logLevel !== undefined && !LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new Error(`${CONTEXT.logLevel} must be one of ${LOG_LEVELS.join(', ')}, not ${JSON.stringify(logLevel)}`);
  }
  const tracing = context(CONTEXT.tracing);
  if (tracing !== undefined && !TRACING_MODES.includes(tracing as TracingMode)) {
    throw new Error(`${CONTEXT.tracing} must be one of ${TRACING_MODES.join(', ')}, not ${JSON.stringify(tracing)}`);
  }
  const logSampleRateText = context(CONTEXT.logSampleRate);
  const logSampleRate = logSampleRateText === undefined ? undefined : Number(logSampleRateText);
  if (logSampleRate !== undefined && !(logSampleRate >= 0 && logSampleRate <= 1)) {
    throw new Error(`${CONTEXT.logSampleRate} must be a number from 0 to 1, not ${JSON.stringify(logSampleRateText)}`);
  }
  return {
    stageName: stageNameOf(scope),
    removalPolicy: removalPolicy(context(CONTEXT.removalPolicy)),
    ...(protectData === undefined ? {} : { protectData }),
    ...(apiGatewayLoggingRole === undefined ? {} : { setApiGatewayLoggingRole: apiGatewayLoggingRole }),
    ...(memorySize === undefined ? {} : { memorySize }),
    ...(memorySizes === undefined ? {} : { memorySizes }),
    ...(reservedConcurrency === undefined ? {} : { reservedConcurrency }),
    ...(logLevel === undefined ? {} : { logLevel: logLevel as LogLevel }),
    ...(logSampleRate === undefined ? {} : { logSampleRate }),
    ...(tracing === undefined ? {} : { tracing: tracing as TracingMode }),
    ...(smsThrottle ? { smsThrottle } : {}),
    logRetention: retention(context(CONTEXT.logRetentionDays)),
    messageStreamShards: positiveInteger(CONTEXT.messageStreamShards, context(CONTEXT.messageStreamShards)),
    ...(httpThrottle ? { httpThrottle } : {}),
    ...(webSocketThrottle ? { webSocketThrottle } : {}),
    ...(messageThrottle ? { messageThrottle } : {}),
    ...(typingThrottle ? { typingThrottle } : {}),
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

/** A JSON value from cdk.json as itself, from `-c` as its text: parsed, or undefined when it is not JSON. */
function jsonContext(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

/** The object itself (cdk.json) or its JSON text (`-c`); each ARN is checked where the functions are made. */
function pushPlatformApplications(value: unknown): Pick<ParleyProps, 'pushPlatformApplications'> {
  if (value === undefined) return {};
  const parsed = jsonContext(value);
  const isStringMap =
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && Object.values(parsed).every((arn) => typeof arn === 'string');
  if (!isStringMap) {
    throw new Error(`${CONTEXT.pushPlatformApplications} must be a JSON object of platform → ARN, not ${JSON.stringify(value)}`);
  }
  return { pushPlatformApplications: parsed as ParleyProps['pushPlatformApplications'] };
}

/** The object itself (cdk.json) or its JSON text (`-c`), function id → MB. */
function memorySizesOf(value: unknown): ParleyProps['memorySizes'] {
  if (value === undefined) return undefined;
  const parsed = jsonContext(value);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${CONTEXT.memorySizes} must be a JSON object of function → MB, not ${JSON.stringify(value)}`);
  }
  const memorySizes = parsed as NonNullable<ParleyProps['memorySizes']>;
  checkMemorySettings({ memorySizes }, CONTEXT.memorySizes);
  return memorySizes;
}

function sendRateLimitsOf(value: unknown): SendRateLimits {
  try {
    return SendRateLimits.parse(typeof value === 'string' ? JSON.parse(value) : value);
  } catch {
    throw new Error(`${CONTEXT.sendRateLimits} must be {"perDevice": {burst, refillMs}, "perRecipient": {burst, refillMs}} of positive integers, not ${JSON.stringify(value)}`);
  }
}

/** `true`/`false` from cdk.json, `'true'`/`'false'` from `-c`. */
function bool(key: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`${key} must be true or false, not ${JSON.stringify(value)}`);
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
