import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Parley } from '../../lib/parley';
import { CONTEXT, parleyPropsFromContext } from '../../lib/parley-stack';
import { synthParley } from './fixture';
import { env } from '../../lambdas/resources';
import { DEFAULT_SMS_LIMITS } from '../../lambdas/accounts/constants';

const propsFrom = (context: Record<string, unknown>) => parleyPropsFromContext(new App({ context }));

describe('ParleyStack', () => {
  describe('reading the parley:* context', () => {
    it('leaves every Parley default alone when no key is set, on the prod stage', () => {
      expect(propsFrom({})).toEqual({
        stageName: 'prod',
        removalPolicy: undefined,
        logRetention: undefined,
        messageStreamShards: undefined,
      });
    });

    it('accepts values from cdk.json (JSON) and from -c (strings) alike', () => {
      const fromJson = propsFrom({
        [CONTEXT.stageName]: 'dev',
        [CONTEXT.removalPolicy]: 'destroy',
        [CONTEXT.logRetentionDays]: 7,
        [CONTEXT.messageStreamShards]: 2,
        [CONTEXT.httpThrottleRate]: 10,
        [CONTEXT.httpThrottleBurst]: 20,
      });
      const fromCli = propsFrom({
        [CONTEXT.stageName]: 'dev',
        [CONTEXT.removalPolicy]: 'destroy',
        [CONTEXT.logRetentionDays]: '7',
        [CONTEXT.messageStreamShards]: '2',
        [CONTEXT.httpThrottleRate]: '10',
        [CONTEXT.httpThrottleBurst]: '20',
      });
      const expected = {
        stageName: 'dev',
        removalPolicy: RemovalPolicy.DESTROY,
        logRetention: RetentionDays.ONE_WEEK,
        messageStreamShards: 2,
        httpThrottle: { rateLimit: 10, burstLimit: 20 },
      };
      expect(fromJson).toEqual(expected);
      expect(fromCli).toEqual(expected);
    });

    it('reads the push platform applications as a JSON object from cdk.json or as its text from -c', () => {
      const applications = { fcm: 'arn:aws:sns:eu-west-1:123456789012:app/GCM/Parley' };
      expect(propsFrom({ [CONTEXT.pushPlatformApplications]: applications }).pushPlatformApplications).toEqual(applications);
      expect(propsFrom({ [CONTEXT.pushPlatformApplications]: JSON.stringify(applications) }).pushPlatformApplications).toEqual(
        applications,
      );
    });

    it.each([
      [CONTEXT.pushPlatformApplications, { [CONTEXT.pushPlatformApplications]: 'arn:aws:sns:eu-west-1:123456789012:app/GCM/Parley' }],
      [CONTEXT.pushPlatformApplications, { [CONTEXT.pushPlatformApplications]: { fcm: 42 } }],
      [CONTEXT.pushPlatformApplications, { [CONTEXT.pushPlatformApplications]: '["arn"]' }],
      [CONTEXT.removalPolicy, { [CONTEXT.removalPolicy]: 'keep' }],
      [CONTEXT.logRetentionDays, { [CONTEXT.logRetentionDays]: 8 }],
      [CONTEXT.messageStreamShards, { [CONTEXT.messageStreamShards]: '0' }],
      [CONTEXT.messageStreamShards, { [CONTEXT.messageStreamShards]: 'four' }],
      [CONTEXT.webSocketThrottleBurst, { [CONTEXT.webSocketThrottleRate]: 100 }],
      [CONTEXT.smsDailyBudget, { [CONTEXT.smsDailyBudget]: '-1' }],
    ])('refuses a malformed %s instead of deploying something else', (key, context) => {
      expect(() => propsFrom(context)).toThrow(key);
    });
  });

  it('gives the functions that send SMS the daily budget of parley:smsDailyBudget, and the default without it', () => {
    const smsLimitsOf = (context: Record<string, unknown>) => {
      const { stack, template } = synthParley(context);
      const fn = template.toJSON().Resources[stack.getLogicalId(stack.parley.functions.requestVerificationCode.node.defaultChild as never)];
      return JSON.parse(fn.Properties.Environment.Variables[env.smsLimits]);
    };
    expect(smsLimitsOf({ [CONTEXT.smsDailyBudget]: '250' })).toEqual({ ...DEFAULT_SMS_LIMITS, perDay: 250 });
    expect(smsLimitsOf({})).toEqual(DEFAULT_SMS_LIMITS);
  });

  it('keeps function and access logs for parley:logRetentionDays days', () => {
    const { template } = synthParley({ [CONTEXT.logRetentionDays]: 7 });
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });
});

describe('Parley embedded in a team’s own stack', () => {
  let template: Template;
  beforeAll(() => {
    const app = new App({ builtinCloudFormationValidation: false, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'TeamChat');
    new Parley(stack, 'Chat', { logLevel: 'DEBUG', setApiGatewayLoggingRole: false, memorySize: 512 });
    template = Template.fromStack(stack);
  });

  it('leaves API Gateway’s account-wide logging role alone when told to', () => {
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  it('passes its function options to every function', () => {
    template.allResourcesProperties('AWS::Lambda::Function', {
      MemorySize: 512,
      Environment: { Variables: { POWERTOOLS_LOG_LEVEL: 'DEBUG' } },
    });
  });
});
