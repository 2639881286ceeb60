/**
 * Builds the Parley stack for assertion tests, with bundling skipped (no esbuild run: a stack builds in
 * a fraction of a second), and reads the synthesized template the way the tests need it.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { ParleyStack } from '../../lib/parley-stack';
import type { FunctionId } from '../../lambdas/functions';
import type { TableId } from '../../lambdas/resources';

export interface Synthesized {
  readonly app: App;
  readonly stack: ParleyStack;
  readonly template: Template;
}

/**
 * The feature flags of `cdk.json` (its `@aws-cdk…` context keys), which `cdk synth` applies: a test's
 * stack is built with them too, so that the tests see the template that deploys. (Its `parley:*` keys are
 * left out: each test says which it sets.)
 */
export const FEATURE_FLAGS: Readonly<Record<string, unknown>> = Object.fromEntries(
  Object.entries(
    (JSON.parse(readFileSync(path.join(__dirname, '../../cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context,
  ).filter(([key]) => key.startsWith('@aws-cdk')),
);

/**
 * An app as `cdk synth` makes one (feature flags of cdk.json), with bundling skipped and `context` added,
 * and without the stack trace CDK records in each construct's metadata (`stackTraces: false`, as `cdk synth`
 * without `--debug`): under jest every trace went through source maps, about a sixth of this suite's CPU, and
 * no template holds one.
 */
export function testApp(context: Record<string, unknown> = {}, builtinCloudFormationValidation = false): App {
  return new App({ builtinCloudFormationValidation, stackTraces: false, context: { ...FEATURE_FLAGS, 'aws:cdk:bundling-stacks': [], ...context } });
}

/**
 * A `ParleyStack` built from `context` (the `parley:*` keys), the way `bin/parley.ts` builds it. CDK's
 * built-in CloudFormation validation costs ~6 s per process, so it is off here and checked in one test
 * of its own (`checks.test.ts`).
 */
export function buildParley(context: Record<string, unknown> = {}, builtinCloudFormationValidation = false): Synthesized {
  const app = testApp(context, builtinCloudFormationValidation);
  const stack = new ParleyStack(app, 'Parley');
  return { app, stack, template: Template.fromStack(stack) };
}

const built = new Map<string, Synthesized>();

/**
 * `buildParley`, once per context in a test process: a build costs ~1.5 s of CPU and the assertion tests
 * only read what they get. A test that changes the stack (cdk-nag annotates it) builds its own.
 */
export function synthParley(context: Record<string, unknown> = {}, builtinCloudFormationValidation = false): Synthesized {
  const key = JSON.stringify([context, builtinCloudFormationValidation]);
  let found = built.get(key);
  if (!found) built.set(key, (found = buildParley(context, builtinCloudFormationValidation)));
  return found;
}

/** The logical id of a construct's CloudFormation resource. */
export function logicalIdOf(construct: IConstruct): string {
  const resource = construct.node.defaultChild ?? construct;
  if (!CfnElement.isCfnElement(resource)) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return Stack.of(construct).getLogicalId(resource);
}

/** Every logical id that a template fragment points at through `Ref` or `Fn::GetAtt`. */
export function referencedLogicalIds(fragment: unknown): Set<string> {
  const found = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (value === null || typeof value !== 'object') return;
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string' && !inner.startsWith('AWS::')) found.add(inner);
      else if (key === 'Fn::GetAtt' && Array.isArray(inner) && typeof inner[0] === 'string') found.add(inner[0]);
      else walk(inner);
    }
  };
  walk(fragment);
  return found;
}

/** Every logical id whose attribute `attribute` a template fragment reads through `Fn::GetAtt`. */
export function logicalIdsWithAttribute(fragment: unknown, attribute: string): Set<string> {
  const found = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (value === null || typeof value !== 'object') return;
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Fn::GetAtt' && Array.isArray(inner) && inner[1] === attribute && typeof inner[0] === 'string') found.add(inner[0]);
      else walk(inner);
    }
  };
  walk(fragment);
  return found;
}

export interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | string[];
  readonly Resource: unknown;
}

/** The statements of every policy attached to the role of logical id `roleLogicalId`. */
export function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy') as Record<
    string,
    { Properties: { Roles: unknown[]; PolicyDocument: { Statement: Statement[] } } }
  >;
  return Object.values(policies)
    .filter((policy) => policy.Properties.Roles.some((role) => referencedLogicalIds(role).has(roleLogicalId)))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

export const actionsOf = (statement: Statement): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

/** Resources of `type`, keyed by logical id. */
export function resourcesOf<P = Record<string, unknown>>(
  template: Template,
  type: string,
): Record<string, { Properties: P; DeletionPolicy?: string; UpdateReplacePolicy?: string }> {
  return template.findResources(type) as Record<string, { Properties: P; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;
}

/** Function → the DynamoDB actions its role allows on the table; functions with none are left out. */
export function tableAccessOf(built: Synthesized, tableId: TableId): Partial<Record<FunctionId, string[]>> {
  const tableLogicalId = logicalIdOf(built.stack.parley.tables[tableId]);
  const access: Partial<Record<FunctionId, string[]>> = {};
  for (const [functionId, fn] of Object.entries(built.stack.parley.functions) as [FunctionId, (typeof built.stack.parley.functions)[FunctionId]][]) {
    const actions = statementsOfRole(built.template, logicalIdOf(fn.role!))
      .filter((statement) => referencedLogicalIds(statement.Resource).has(tableLogicalId))
      .flatMap(actionsOf);
    if (actions.length > 0) access[functionId] = actions;
  }
  return access;
}

/** The table's resource in the template. */
export const tableResourceOf = (built: Synthesized, tableId: TableId) =>
  resourcesOf<Record<string, unknown>>(built.template, 'AWS::DynamoDB::GlobalTable')[logicalIdOf(built.stack.parley.tables[tableId])]!;

/** Properties of an `AWS::Lambda::EventSourceMapping`, the ones tests look at by name. */
export interface MappingProperties {
  EventSourceArn: unknown;
  FunctionName: unknown;
  [property: string]: unknown;
}

/** The one event source mapping that invokes `functionId`. */
export function eventSourceMappingOf(built: Synthesized, functionId: FunctionId): MappingProperties {
  const functionLogicalId = logicalIdOf(built.stack.parley.functions[functionId]);
  const found = Object.values(resourcesOf<MappingProperties>(built.template, 'AWS::Lambda::EventSourceMapping')).filter((m) =>
    referencedLogicalIds(m.Properties.FunctionName).has(functionLogicalId),
  );
  expect(found).toHaveLength(1);
  return found[0]!.Properties;
}

/** A resource policy's statement that refuses every request of `action` not made over TLS. */
export const denyWithoutTls = (action: string) =>
  Match.objectLike({ Effect: 'Deny', Action: action, Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } });

/**
 * The failure queue of a function fed by an event source (one construct, `FailedRecordsQueue`, for every
 * such function): SQS-encrypted, kept 14 days and on removal, reachable over TLS only.
 */
export function expectFailedRecordsQueue(built: Synthesized, functionId: keyof Synthesized['stack']['parley']['failedRecords']): void {
  const queueLogicalId = logicalIdOf(built.stack.parley.failedRecords[functionId]);
  const queue = resourcesOf(built.template, 'AWS::SQS::Queue')[queueLogicalId]!;
  expect(queue).toMatchObject({
    Properties: { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 },
    DeletionPolicy: 'Retain',
  });
  built.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
    Queues: [{ Ref: queueLogicalId }],
    PolicyDocument: {
      Statement: Match.arrayWith([denyWithoutTls('sqs:*')]),
    },
  });
}
