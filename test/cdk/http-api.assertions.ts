import { Match } from 'aws-cdk-lib/assertions';
import { httpAuthorizer, httpRoutes } from '../../lambdas/functions';
import { logicalIdOf, referencedLogicalIds, resourcesOf, synthParley, type Synthesized } from './fixture';

interface RouteProperties {
  ApiId: unknown;
  RouteKey: string;
  AuthorizationType: string;
  AuthorizerId?: unknown;
  Target: unknown;
}

describe('HTTP API', () => {
  let built: Synthesized;
  let apiId: string;
  let authorizerId: string;
  let routes: Record<string, RouteProperties>;

  beforeAll(() => {
    built = synthParley();
    apiId = logicalIdOf(built.stack.parley.httpApi);
    routes = Object.fromEntries(
      Object.values(resourcesOf<RouteProperties>(built.template, 'AWS::ApiGatewayV2::Route'))
        .filter((route) => referencedLogicalIds(route.Properties.ApiId).has(apiId))
        .map((route) => [route.Properties.RouteKey, route.Properties]),
    );
    const authorizers = resourcesOf<{ ApiId: unknown }>(built.template, 'AWS::ApiGatewayV2::Authorizer');
    authorizerId = Object.keys(authorizers).find((id) => referencedLogicalIds(authorizers[id]!.Properties.ApiId).has(apiId))!;
  });

  it('has exactly one route per entry of httpRoutes', () => {
    expect(Object.keys(routes).sort()).toEqual(httpRoutes.map((r) => `${r.method} ${r.path}`).sort());
  });

  describe.each(httpRoutes.map((route) => [`${route.method} ${route.path}`, route] as const))('%s', (routeKey, route) => {
    it(`goes to the ${route.function} function`, () => {
      const [integrationId] = [...referencedLogicalIds(routes[routeKey]!.Target)];
      const integration = built.template.toJSON().Resources[integrationId!];
      expect(referencedLogicalIds(integration.Properties.IntegrationUri)).toEqual(
        new Set([logicalIdOf(built.stack.parley.functions[route.function])]),
      );
    });

    it(route.authorized ? 'requires device credentials' : 'is open, as its definition says', () => {
      const properties = routes[routeKey]!;
      if (route.authorized) {
        expect(properties.AuthorizationType).toBe('CUSTOM');
        expect(referencedLogicalIds(properties.AuthorizerId)).toEqual(new Set([authorizerId]));
      } else {
        expect(properties.AuthorizationType).toBe('NONE');
        expect(properties.AuthorizerId).toBeUndefined();
      }
    });
  });

  it('authorizes with the httpAuthorizer function, simple responses and no result caching', () => {
    built.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      ApiId: { Ref: apiId },
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      AuthorizerResultTtlInSeconds: 0,
      IdentitySource: [`$request.header.${httpAuthorizer.identityHeader}`],
    });
    const authorizer = built.template.toJSON().Resources[authorizerId];
    expect(referencedLogicalIds(authorizer.Properties.AuthorizerUri)).toEqual(
      new Set([logicalIdOf(built.stack.parley.functions[httpAuthorizer.function])]),
    );
  });

  it('serves at the root of its URL from one throttled, auto-deployed, access-logged stage', () => {
    const stages = resourcesOf(built.template, 'AWS::ApiGatewayV2::Stage');
    const own = Object.values(stages).filter((s) => referencedLogicalIds(s.Properties.ApiId).has(apiId));
    expect(own).toHaveLength(1);
    expect(own[0]!.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [logicalIdOf(built.stack.parley.http.accessLogGroup), 'Arn'] },
      },
    });
  });

  it('uses the throttling of the parley:* context', () => {
    const custom = synthParley({ 'parley:httpThrottleRate': 20, 'parley:httpThrottleBurst': 40 });
    custom.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
    });
  });

  it('outputs its https:// URL', () => {
    const outputs = built.template.findOutputs('*', {
      Value: { 'Fn::Join': ['', Match.arrayWith(['https://', { Ref: apiId }])] },
    });
    expect(Object.keys(outputs)).toHaveLength(1);
  });
});
