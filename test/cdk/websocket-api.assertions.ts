import { Match } from 'aws-cdk-lib/assertions';
import { functions, isTwoWayRoute, routeSelectionExpression, webSocketAuthorizer, webSocketRoutes } from '../../lambdas/functions';
import { logicalIdOf, referencedLogicalIds, resourcesOf, synthParley, type Synthesized } from './fixture';

interface RouteProperties {
  ApiId: unknown;
  RouteKey: string;
  AuthorizationType: string;
  AuthorizerId?: unknown;
  Target: unknown;
}

describe('WebSocket API', () => {
  let built: Synthesized;
  let apiId: string;
  let routes: Record<string, { logicalId: string; properties: RouteProperties }>;

  beforeAll(() => {
    built = synthParley();
    apiId = logicalIdOf(built.stack.parley.webSocketApi);
    routes = Object.fromEntries(
      Object.entries(resourcesOf<RouteProperties>(built.template, 'AWS::ApiGatewayV2::Route'))
        .filter(([, route]) => referencedLogicalIds(route.Properties.ApiId).has(apiId))
        .map(([logicalId, route]) => [route.Properties.RouteKey, { logicalId, properties: route.Properties }]),
    );
  });

  it('selects routes on the action the definitions name', () => {
    built.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: routeSelectionExpression,
    });
  });

  it('has exactly one route per route key of webSocketRoutes', () => {
    expect(Object.keys(routes).sort()).toEqual(Object.keys(webSocketRoutes).sort());
  });

  it.each(Object.entries(webSocketRoutes))('sends %s to the %s function', (routeKey, functionId) => {
    const target = routes[routeKey]!.properties.Target;
    const [integrationId] = [...referencedLogicalIds(target)];
    const integration = built.template.toJSON().Resources[integrationId!];
    const functionLogicalId = logicalIdOf(built.stack.parley.functions[functionId as keyof typeof functions]);
    expect(referencedLogicalIds(integration.Properties.IntegrationUri)).toEqual(new Set([functionLogicalId]));
  });

  it('runs the device authorizer on $connect and on no other route', () => {
    const authorized = Object.entries(routes)
      .filter(([, route]) => route.properties.AuthorizationType !== 'NONE')
      .map(([routeKey]) => routeKey);
    expect(authorized).toEqual(['$connect']);
    expect(routes.$connect!.properties.AuthorizationType).toBe('CUSTOM');
  });

  it('authorizes with the webSocketAuthorizer function, reading the identity header', () => {
    const authorizers = resourcesOf<{ ApiId: unknown; AuthorizerType: string; IdentitySource: string[]; AuthorizerUri: unknown }>(
      built.template,
      'AWS::ApiGatewayV2::Authorizer',
    );
    const [authorizerId, authorizer] = Object.entries(authorizers).find(([, a]) =>
      referencedLogicalIds(a.Properties.ApiId).has(apiId),
    )!;
    expect(referencedLogicalIds(routes.$connect!.properties.AuthorizerId)).toEqual(new Set([authorizerId]));
    expect(authorizer.Properties.AuthorizerType).toBe('REQUEST');
    expect(authorizer.Properties.IdentitySource).toEqual([`route.request.header.${webSocketAuthorizer.identityHeader}`]);
    expect(referencedLogicalIds(authorizer.Properties.AuthorizerUri)).toEqual(
      new Set([logicalIdOf(built.stack.parley.functions[webSocketAuthorizer.function])]),
    );
  });

  it('gives a route response to exactly the two-way routes', () => {
    const responses = resourcesOf<{ RouteId: unknown; RouteResponseKey: string }>(
      built.template,
      'AWS::ApiGatewayV2::RouteResponse',
    );
    const withResponse = new Set(Object.values(responses).flatMap((r) => [...referencedLogicalIds(r.Properties.RouteId)]));
    for (const [routeKey, route] of Object.entries(routes)) {
      expect([routeKey, withResponse.has(route.logicalId)]).toEqual([routeKey, isTwoWayRoute(routeKey)]);
    }
  });

  it('deploys one auto-deployed stage named prod, throttled, with JSON access logs to a retained log group', () => {
    built.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: apiId },
      StageName: 'prod',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: Match.anyValue(), ThrottlingBurstLimit: Match.anyValue() },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [logicalIdOf(built.stack.parley.connectionPlane.accessLogGroup), 'Arn'] },
        Format: Match.stringLikeRegexp('"connectionId":"\\$context.connectionId"'),
      },
    });
  });

  it('sets API Gateway’s logging role before the stage, since a WebSocket stage cannot log without it', () => {
    built.template.resourceCountIs('AWS::ApiGateway::Account', 1);
    const [accountId] = Object.keys(built.template.findResources('AWS::ApiGateway::Account'));
    built.template.hasResource('AWS::ApiGatewayV2::Stage', {
      Properties: { ApiId: { Ref: apiId } },
      DependsOn: Match.arrayWith([accountId]),
    });
  });

  it('uses the stage name and throttling of the parley:* context', () => {
    const custom = synthParley({
      'parley:stageName': 'dev',
      'parley:webSocketThrottleRate': 50,
      'parley:webSocketThrottleBurst': '80',
    });
    custom.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'dev',
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 80 },
    });
  });

  it('throttles SEND, GROUP_SEND and TYPING below the stage, after their routes exist, overridable by the parley:* context', () => {
    const stages = resourcesOf<{ RouteSettings?: Record<string, unknown> }>(built.template, 'AWS::ApiGatewayV2::Stage');
    const [stageId, stage] = Object.entries(stages).find(([, candidate]) => referencedLogicalIds(candidate.Properties).has(apiId))!;
    expect(stage.Properties.RouteSettings).toEqual({
      SEND: { ThrottlingRateLimit: 2000, ThrottlingBurstLimit: 2000 },
      GROUP_SEND: { ThrottlingRateLimit: 2000, ThrottlingBurstLimit: 2000 },
      TYPING: { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 1000 },
    });
    const dependsOn = (built.template.toJSON().Resources[stageId] as { DependsOn: string[] }).DependsOn;
    expect(dependsOn).toEqual(expect.arrayContaining([routes.SEND!.logicalId, routes.GROUP_SEND!.logicalId, routes.TYPING!.logicalId]));

    const custom = synthParley({
      'parley:messageThrottleRate': 100,
      'parley:messageThrottleBurst': '200',
      'parley:typingThrottleRate': 30,
      'parley:typingThrottleBurst': 60,
    });
    custom.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      RouteSettings: {
        SEND: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
        GROUP_SEND: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
        TYPING: { ThrottlingRateLimit: 30, ThrottlingBurstLimit: 60 },
      },
    });
  });

  it('gives the message routes the SEND rate limits of the parley:* context, and no other function', () => {
    const limits = { perDevice: { burst: 10, refillMs: 100 }, perRecipient: { burst: 5, refillMs: 2000 } };
    const custom = synthParley({ 'parley:sendRateLimits': JSON.stringify(limits) });
    const given = Object.keys(functions).filter((functionId) => {
      const fn = custom.template.toJSON().Resources[logicalIdOf(custom.stack.parley.functions[functionId as keyof typeof functions])];
      return fn.Properties.Environment.Variables.SEND_RATE_LIMITS !== undefined;
    });
    expect(given.sort()).toEqual(['groupSend', 'send']);
    const send = custom.template.toJSON().Resources[logicalIdOf(custom.stack.parley.functions.send)];
    expect(JSON.parse(send.Properties.Environment.Variables.SEND_RATE_LIMITS)).toEqual(limits);
    // Unset, the handlers' defaults hold and no function has the variable.
    expect(built.template.toJSON().Resources[logicalIdOf(built.stack.parley.functions.send)].Properties.Environment.Variables.SEND_RATE_LIMITS).toBeUndefined();
    expect(() => synthParley({ 'parley:sendRateLimits': '{"perDevice": {"burst": 0}}' })).toThrow('parley:sendRateLimits');
  });

  it('outputs the wss:// URL of the stage', () => {
    const outputs = built.template.findOutputs('*', {
      Value: { 'Fn::Join': ['', Match.arrayWith(['wss://', { Ref: apiId }])] },
    });
    expect(Object.keys(outputs)).toHaveLength(1);
  });
});
