import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { CfnStage, WebSocketApi, WebSocketStage, type ThrottleSettings, type WebSocketRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  isTwoWayRoute,
  routeSelectionExpression,
  webSocketAuthorizer,
  webSocketRoutes,
  type FunctionId,
} from '../lambdas/functions';
import { accessLogs } from './access-logs';
import { entriesOf } from './definitions';

/** API Gateway runs an authorizer on `$connect` only; every later frame rides on the authorized connection. */
const CONNECT_ROUTE = '$connect';

export interface ParleyConnectionPlaneProps {
  /** The handler of each function named in `webSocketRoutes` and `webSocketAuthorizer`. */
  readonly functions: Readonly<Record<FunctionId, IFunction>>;
  /**
   * Name of the WebSocket stage; it is the last part of the `wss://` URL.
   * @default 'prod'
   */
  readonly stageName?: string;
  /**
   * Steady-state rate and burst of messages per second across the whole stage.
   * @default - 5,000 per second, bursts of 5,000 (API Gateway's regional account limits are 10,000 and 5,000)
   */
  readonly throttle?: ThrottleSettings;
  /**
   * Steady-state rate and burst of each message route (SEND, GROUP_SEND) across the stage, below the
   * stage's: a flood of messages leaves room for DELIVERED, SYNC and HEARTBEAT, which drain queues.
   * Per-device limits are the handlers' (`lambdas/send/send-rate-limit.ts`): API Gateway throttles a
   * route for all clients together.
   * @default - 2,000 per second, bursts of 2,000, each
   */
  readonly messageThrottle?: ThrottleSettings;
  /**
   * Steady-state rate and burst of the TYPING route across the stage: typing is relayed without a table
   * write, so its per-device throttle lives in each Lambda instance's memory; this caps all devices together.
   * @default - 1,000 per second, bursts of 1,000
   */
  readonly typingThrottle?: ThrottleSettings;
  /**
   * How long the access log group keeps its events.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the access log group when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Whether to set the role with which API Gateway writes CloudWatch logs in this account and region.
   * WebSocket stages can only log once it is set. It is one setting per account and region: turn this
   * off where something else (another stack, a landing zone) already sets it.
   * @default true
   */
  readonly setApiGatewayLoggingRole?: boolean;
}

export const DEFAULT_WEBSOCKET_THROTTLE: ThrottleSettings = { rateLimit: 5000, burstLimit: 5000 };
export const DEFAULT_MESSAGE_THROTTLE: ThrottleSettings = { rateLimit: 2000, burstLimit: 2000 };
export const DEFAULT_TYPING_THROTTLE: ThrottleSettings = { rateLimit: 1000, burstLimit: 1000 };

/** The routes that start a delivery, throttled below the stage by `messageThrottle`. */
const MESSAGE_ROUTES = ['SEND', 'GROUP_SEND'] as const satisfies readonly (keyof typeof webSocketRoutes)[];

/**
 * The WebSocket API the devices stay connected to: one route per entry of `webSocketRoutes`, route
 * selection on `$request.body.action`, the device-credential authorizer on `$connect`, a stage with
 * access logs and throttling.
 *
 * @example
 * const plane = new ParleyConnectionPlane(this, 'Connections', { functions: fns.functions });
 * fns.allowConnectionManagement(plane.stage);
 * plane.stage.url; // wss://{api}.execute-api.{region}.amazonaws.com/prod
 */
export class ParleyConnectionPlane extends Construct {
  public readonly api: WebSocketApi;
  public readonly stage: WebSocketStage;
  /** The route of each route key of `webSocketRoutes`. */
  public readonly routes: Readonly<Record<keyof typeof webSocketRoutes, WebSocketRoute>>;
  public readonly accessLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ParleyConnectionPlaneProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.api = new WebSocketApi(this, 'Api', {
      apiName: `${Stack.of(this).stackName}-websocket`,
      description: 'Parley: the connection every device keeps open',
      routeSelectionExpression,
    });

    const authorizer = new WebSocketLambdaAuthorizer('DeviceAuthorizer', props.functions[webSocketAuthorizer.function], {
      identitySource: [`route.request.header.${webSocketAuthorizer.identityHeader}`],
    });

    this.routes = Object.fromEntries(
      entriesOf(webSocketRoutes).map(([routeKey, functionId]) => {
        const route = this.api.addRoute(routeKey, {
          integration: new WebSocketLambdaIntegration(`${routeKey}Integration`, props.functions[functionId]),
          ...(routeKey === CONNECT_ROUTE ? { authorizer } : {}),
          returnResponse: isTwoWayRoute(routeKey),
        });
        if (routeKey !== CONNECT_ROUTE) {
          Validations.of(route).acknowledge({
            id: 'AwsSolutions-APIG4',
            reason:
              'A WebSocket API authorizes once, on $connect; API Gateway allows no authorizer on other routes, ' +
              'which receive the authorizer’s context (userId, deviceId) of their connection.',
          });
        }
        return [routeKey, route];
      }),
    ) as Record<keyof typeof webSocketRoutes, WebSocketRoute>;

    const logging = accessLogs(this, 'webSocket', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    this.accessLogGroup = logging.logGroup;
    this.stage = new WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: props.stageName ?? 'prod',
      autoDeploy: true,
      throttle: props.throttle ?? DEFAULT_WEBSOCKET_THROTTLE,
      accessLogSettings: logging.settings,
    });
    this.throttleRoutes({
      ...Object.fromEntries(MESSAGE_ROUTES.map((routeKey) => [routeKey, props.messageThrottle ?? DEFAULT_MESSAGE_THROTTLE])),
      TYPING: props.typingThrottle ?? DEFAULT_TYPING_THROTTLE,
    });
    if (props.setApiGatewayLoggingRole ?? true) {
      this.stage.node.addDependency(this.apiGatewayLoggingRole());
    }
  }

  /** Route settings of the stage (the L2 stage has no property for them); a route must exist before its settings. */
  private throttleRoutes(throttles: Partial<Record<keyof typeof webSocketRoutes, ThrottleSettings>>): void {
    const stage = this.stage.node.defaultChild as CfnStage;
    const entries = Object.entries(throttles) as [keyof typeof webSocketRoutes, ThrottleSettings][];
    stage.routeSettings = Object.fromEntries(
      entries.map(([routeKey, throttle]) => [routeKey, { ThrottlingRateLimit: throttle.rateLimit, ThrottlingBurstLimit: throttle.burstLimit }]),
    );
    for (const [routeKey] of entries) stage.node.addDependency(this.routes[routeKey]);
  }

  /**
   * The account-wide role through which API Gateway writes logs. It outlives the stack, as the
   * `CloudWatchRole` of CDK's RestApi does: other APIs of the account may log through it too.
   */
  private apiGatewayLoggingRole(): apigateway.CfnAccount {
    const role = new iam.Role(this, 'ApiGatewayLoggingRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs')],
    });
    role.applyRemovalPolicy(RemovalPolicy.RETAIN);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'The policy AWS documents for API Gateway’s account-level logging role: API Gateway creates the ' +
        'execution log groups of every API in the account, so no narrower resource list exists.',
    });
    const account = new apigateway.CfnAccount(this, 'ApiGatewayAccount', { cloudWatchRoleArn: role.roleArn });
    account.applyRemovalPolicy(RemovalPolicy.RETAIN);
    return account;
  }
}
