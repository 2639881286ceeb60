import { Template } from 'aws-cdk-lib/assertions';
import { tables, type TableId } from '../../lambdas/resources';
import { ParleyStack, parleyPropsFromContext, stackNameOf } from '../../lib/parley-stack';
import { functions, type FunctionId } from '../../lambdas/functions';
import { DEFAULT_MEMORY_SIZE, DEFAULT_MEMORY_SIZES } from '../../lib/memory-sizes';
import { logicalIdOf, resourcesOf, synthParley, testApp } from './fixture';

/** The MemorySize of a function in a synthesized stack. */
const memoryIn = (template: Template, stack: ParleyStack, id: FunctionId): unknown =>
  resourcesOf<{ MemorySize: unknown }>(template, 'AWS::Lambda::Function')[logicalIdOf(stack.parley.handlers.functions[id])]!.Properties.MemorySize;

/** Every explicit physical name in a template: the properties CloudFormation would refuse twice in one account. */
const NAME_PROPERTIES = ['Name', 'TableName', 'BucketName', 'FunctionName', 'LogGroupName', 'QueueName', 'TopicName', 'DashboardName', 'AlarmName', 'RoleName', 'StreamName'];

/** A reference to another resource (`Ref`, `Fn::GetAtt`) names nothing itself. */
const isReference = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && ('Ref' in value || 'Fn::GetAtt' in value);

/** Resources whose name is unique only within their parent (an authorizer within its API). */
const NAMED_WITHIN_PARENT = new Set(['AWS::ApiGatewayV2::Authorizer']);

function physicalNames(template: Template): string[] {
  return Object.values(template.toJSON().Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>)
    .filter((resource) => !NAMED_WITHIN_PARENT.has(resource.Type))
    .flatMap((resource) =>
    NAME_PROPERTIES.map((key) => resource.Properties?.[key])
      .filter((value) => value !== undefined && !isReference(value))
      .map((value) => JSON.stringify(value)),
  );
}

const IRREPLACEABLE: TableId[] = ['accounts', 'devices', 'deviceKeys', 'oneTimePrekeys', 'deviceQueues'];

/** TableV2 is an `AWS::DynamoDB::GlobalTable`: deletion protection is a setting of each replica. */
interface GlobalTableProperties {
  Replicas: { DeletionProtectionEnabled?: boolean }[];
}
const isProtected = (table: { Properties: GlobalTableProperties }): boolean =>
  table.Properties.Replicas.length > 0 && table.Properties.Replicas.every((replica) => replica.DeletionProtectionEnabled === true);

describe('stages', () => {
  describe('the stack name', () => {
    it('is Parley-<stage>, Parley-prod by default', () => {
      expect(stackNameOf(testApp())).toBe('Parley-prod');
      expect(stackNameOf(testApp({ 'parley:stageName': 'dev' }))).toBe('Parley-dev');
    });

    it('is parley:stackName when set, so a stack deployed as Parley keeps its name and its tables', () => {
      expect(stackNameOf(testApp({ 'parley:stackName': 'Parley' }))).toBe('Parley');
    });

    it.each([['parley:stageName', 'dev stage'], ['parley:stageName', 'a/b'], ['parley:stackName', '1Parley']])('refuses %s %j', (key, value) => {
      expect(() => stackNameOf(testApp({ [key]: value }))).toThrow(key);
    });
  });

  describe('two stages in one app', () => {
    let dev: Template;
    let prod: Template;
    let devStack: ParleyStack;
    beforeAll(() => {
      const app = testApp();
      devStack = new ParleyStack(app, 'Parley-dev', { stageName: 'dev' });
      const prodStack = new ParleyStack(app, 'Parley-prod', { stageName: 'prod' });
      dev = Template.fromStack(devStack);
      prod = Template.fromStack(prodStack);
      app.synth();
    });

    it('synthesize as two stacks with distinct names', () => {
      expect(devStack.stackName).toBe('Parley-dev');
      expect(devStack.stageName).toBe('dev');
    });

    it('share no explicit physical name, so both deploy in one account', () => {
      const devNames = physicalNames(dev);
      expect(devNames.length).toBeGreaterThan(0);
      const clashes = devNames.filter((name) => physicalNames(prod).includes(name));
      expect(clashes).toEqual([]);
    });

    it('serve their WebSocket APIs at their own stage', () => {
      dev.hasResourceProperties('AWS::ApiGatewayV2::Stage', { StageName: 'dev' });
      prod.hasResourceProperties('AWS::ApiGatewayV2::Stage', { StageName: 'prod' });
    });

    it('protect the account, device, key and queue tables from deletion in prod only', () => {
      const protectedIn = (template: Template) =>
        Object.values(resourcesOf<GlobalTableProperties>(template, 'AWS::DynamoDB::GlobalTable')).filter(isProtected).length;
      expect(protectedIn(prod)).toBe(IRREPLACEABLE.length);
      expect(protectedIn(dev)).toBe(0);
    });
  });

  describe('deletion protection', () => {
    const protectedTables = (context: Record<string, unknown>): TableId[] => {
      const { stack, template } = synthParley(context);
      const globalTables = resourcesOf<GlobalTableProperties>(template, 'AWS::DynamoDB::GlobalTable');
      return (Object.keys(tables) as TableId[]).filter((tableId) => isProtected(globalTables[logicalIdOf(stack.parley.tables[tableId])]!));
    };

    it('is on for exactly the tables holding accounts, devices, keys and queues in the prod stage', () => {
      expect(protectedTables({}).sort()).toEqual([...IRREPLACEABLE].sort());
    });

    it('is off in any other stage, and parley:protectData turns it on or off whatever the stage', () => {
      expect(protectedTables({ 'parley:stageName': 'dev' })).toEqual([]);
      expect(protectedTables({ 'parley:stageName': 'staging', 'parley:protectData': 'true' }).sort()).toEqual([...IRREPLACEABLE].sort());
      expect(protectedTables({ 'parley:protectData': false })).toEqual([]);
    });
  });

  describe('per-stage settings from context', () => {
    let template: Template;
    beforeAll(() => {
      template = synthParley({
        'parley:stageName': 'dev',
        'parley:memorySize': '512',
        'parley:reservedConcurrency': '5',
        'parley:logLevel': 'DEBUG',
        'parley:smsThrottleRate': '1',
        'parley:smsThrottleBurst': '2',
        'parley:apiGatewayLoggingRole': 'false',
      }).template;
    });

    it('give every function the memory, reserved concurrency and log level of the stage', () => {
      template.allResourcesProperties('AWS::Lambda::Function', {
        MemorySize: 512,
        ReservedConcurrentExecutions: 5,
        Environment: { Variables: { POWERTOOLS_LOG_LEVEL: 'DEBUG' } },
      });
    });

    it('throttle the open SMS route apart from the rest of the HTTP API', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
        RouteSettings: { 'POST /v1/verification/code': { ThrottlingRateLimit: 1, ThrottlingBurstLimit: 2 } },
      });
    });

    it('leave API Gateway’s account-wide logging role alone when told to', () => {
      template.resourceCountIs('AWS::ApiGateway::Account', 0);
    });

    it('give single functions the memory parley:memorySizes names, over parley:memorySize', () => {
      const { template: sized, stack } = synthParley({ 'parley:memorySize': '512', 'parley:memorySizes': '{"fanout": 2048, "getGroup": 128}' });
      const memoryOf = (id: FunctionId) => memoryIn(sized, stack, id);
      expect([memoryOf('fanout'), memoryOf('getGroup'), memoryOf('send'), memoryOf('listDevices')]).toEqual([2048, 128, 512, 512]);
    });

    it('default to more memory on the message path (fanout 1,024 MB, its routes 512 MB, the rest 256 MB), no reserved concurrency, and an SMS route at 5/s, bursts of 10', () => {
      const { template: defaults, stack } = synthParley();
      for (const id of Object.keys(functions) as FunctionId[]) {
        expect({ id, memory: memoryIn(defaults, stack, id) }).toEqual({ id, memory: DEFAULT_MEMORY_SIZES[id] ?? DEFAULT_MEMORY_SIZE });
      }
      expect([DEFAULT_MEMORY_SIZES.fanout, DEFAULT_MEMORY_SIZES.send, DEFAULT_MEMORY_SIZES.listDevices]).toEqual([1024, 512, undefined]);
      for (const fn of Object.values(resourcesOf(defaults, 'AWS::Lambda::Function'))) {
        expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
      }
      defaults.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        RouteSettings: { 'POST /v1/verification/code': { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 } },
      });
      defaults.resourceCountIs('AWS::ApiGateway::Account', 1);
    });

    it('trace with Lambda alone unless parley:tracing asks for the X-Ray SDK’s subsegments', () => {
      expect(parleyPropsFromContext(testApp()).tracing).toBeUndefined();
      expect(parleyPropsFromContext(testApp({ 'parley:tracing': 'subsegments' })).tracing).toBe('subsegments');
      expect(parleyPropsFromContext(testApp({ 'parley:tracing': 'active' })).tracing).toBe('active');
    });

    it.each([
      ['parley:memorySize', '64'],
      ['parley:memorySizes', '{"fanout": 20000}'],
      ['parley:memorySizes', '{"noSuchFunction": 512}'],
      ['parley:memorySizes', '[512]'],
      ['parley:reservedConcurrency', '0'],
      ['parley:logLevel', 'VERBOSE'],
      ['parley:tracing', 'xray'],
      ['parley:protectData', 'yes'],
      ['parley:smsThrottleRate', '3'],
    ])('refuses a malformed %s (%j)', (key, value) => {
      expect(() => synthParley({ [key]: value })).toThrow(key);
    });
  });
});
