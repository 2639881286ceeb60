import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, type CfnStage, type HttpRoute, type HttpStage, type ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { functions, httpAuthorizer, httpRoutes, type FunctionDefinition, type FunctionId } from '../lambdas/functions';
import { accessLogs } from './access-logs';

export interface ParleyHttpApiProps {
  /** The handler of each function named in `httpRoutes` and `httpAuthorizer`. */
  readonly functions: Readonly<Record<FunctionId, IFunction>>;
  /**
   * Steady-state rate and burst of requests per second across the whole API. Account and device
   * requests are rare next to messages; a low ceiling also caps what an SMS flood could cost.
   * @default - 500 per second, bursts of 1,000
   */
  readonly throttle?: ThrottleSettings;
  /**
   * Rate and burst of each open route whose function sends SMS (`POST /v1/verification/code`), apart from
   * and well below the API's: anyone may call it without credentials, and each call may cost an SMS, so
   * a flood of code requests is refused at the edge before it crowds out the signed-in routes or reaches
   * the daily SMS budget. (The handler's own limits per number, address and prefix still apply.)
   * @default - 5 per second, bursts of 10
   */
  readonly smsThrottle?: ThrottleSettings;
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
}

export const DEFAULT_HTTP_THROTTLE: ThrottleSettings = { rateLimit: 500, burstLimit: 1000 };
export const DEFAULT_SMS_THROTTLE: ThrottleSettings = { rateLimit: 5, burstLimit: 10 };

/** Route keys (`METHOD /path`) of the routes whose function `sendsSms`: throttled apart by `smsThrottle`. */
export const SMS_ROUTE_KEYS: readonly string[] = httpRoutes
  .filter((route) => (functions[route.function] as FunctionDefinition).sendsSms)
  .map((route) => `${route.method} ${route.path}`);

/**
 * The HTTP API of accounts and devices: one route per entry of `httpRoutes`, the device-credential
 * authorizer on the routes marked `authorized`, served at the root of the API's URL (its `$default` stage).
 *
 * @example
 * const http = new ParleyHttpApi(this, 'Http', { functions: fns.functions });
 * http.url; // https://{api}.execute-api.{region}.amazonaws.com/
 */
export class ParleyHttpApi extends Construct {
  public readonly api: HttpApi;
  public readonly stage: HttpStage;
  /** The route of each entry of `httpRoutes`, keyed `METHOD /path` as API Gateway keys it. */
  public readonly routes: Readonly<Record<string, HttpRoute>>;
  public readonly accessLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ParleyHttpApiProps) {
    super(scope, id);

    this.api = new HttpApi(this, 'Api', {
      apiName: `${Stack.of(this).stackName}-http`,
      description: 'Parley: accounts and devices',
      // The stage is made below, with access logs and throttling that the default stage cannot have.
      createDefaultStage: false,
    });

    const authorizer = new HttpLambdaAuthorizer('DeviceAuthorizer', props.functions[httpAuthorizer.function], {
      identitySource: [`$request.header.${httpAuthorizer.identityHeader}`],
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      // No caching: a removed device must be refused on its very next request.
      resultsCacheTtl: Duration.seconds(0),
    });

    const integrations = new Map<FunctionId, HttpLambdaIntegration>();
    const integrationOf = (functionId: FunctionId): HttpLambdaIntegration => {
      let integration = integrations.get(functionId);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${functionId}Integration`, props.functions[functionId]);
        integrations.set(functionId, integration);
      }
      return integration;
    };

    const routes: Record<string, HttpRoute> = {};
    for (const route of httpRoutes) {
      const [made] = this.api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: integrationOf(route.function),
        ...(route.authorized ? { authorizer } : {}),
      });
      if (!made) throw new Error(`No route was made for ${route.method} ${route.path}`);
      if (!route.authorized) {
        Validations.of(made).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason:
            'Open by design: the caller has no device credentials yet (asking for a code, registering, ' +
            'linking with a one-time token); the handler checks the code or token it carries.',
        });
      }
      routes[`${route.method} ${route.path}`] = made;
    }
    this.routes = routes;

    const logging = accessLogs(this, 'http', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.accessLogGroup = logging.logGroup;
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? DEFAULT_HTTP_THROTTLE,
      accessLogSettings: logging.settings,
    });
    this.throttleSmsRoutes(props.smsThrottle ?? DEFAULT_SMS_THROTTLE);
  }

  /** Route settings of the stage (the L2 stage has no property for them); a route must exist before its settings. */
  private throttleSmsRoutes(throttle: ThrottleSettings): void {
    const stage = this.stage.node.defaultChild as CfnStage;
    stage.routeSettings = Object.fromEntries(
      SMS_ROUTE_KEYS.map((routeKey) => [routeKey, { ThrottlingRateLimit: throttle.rateLimit, ThrottlingBurstLimit: throttle.burstLimit }]),
    );
    for (const routeKey of SMS_ROUTE_KEYS) stage.node.addDependency(this.routes[routeKey]!);
  }

  /** The API's base URL; route paths follow it. */
  public get url(): string {
    return this.stage.url;
  }
}
