import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { DEFAULT_BUNDLING } from '../../lib/functions';
import { buildParley, synthParley, type Synthesized } from './fixture';

interface Acknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

function acknowledgementsIn(scope: IConstruct): Acknowledgement[] {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([key, reason]) => ({
          path: construct.node.path,
          id: key.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

const violationsOf = (built: Synthesized) => new AwsSolutionsChecks(built.app).validateScope(built.stack).violations;

describe('checks', () => {
  describe('cdk-nag AWS Solutions', () => {
    it('finds what it should in this setup (a bare bucket has no access logs)', () => {
      const app = new App();
      const stack = new Stack(app, 'Bare');
      new s3.Bucket(stack, 'Bucket');
      const rules = new AwsSolutionsChecks(app).validateScope(stack).violations.map((v) => v.ruleName);
      expect(rules).toContain('AwsSolutions-S1');
    });

    const withPush = {
      'parley:pushPlatformApplications': {
        apns: 'arn:aws:sns:us-east-1:123456789012:app/APNS/Parley',
        apnsSandbox: 'arn:aws:sns:us-east-1:123456789012:app/APNS_SANDBOX/Parley',
        fcm: 'arn:aws:sns:us-east-1:123456789012:app/GCM/Parley',
      },
    };

    it.each([
      ['retained', {}],
      ['destroyed', { 'parley:removalPolicy': 'destroy' }],
      ['push-enabled', withPush],
      ['dev-stage', { 'parley:stageName': 'dev', 'parley:reservedConcurrency': 5, 'parley:memorySize': 512, 'parley:apiGatewayLoggingRole': false }],
    ])('reports no unacknowledged error or warning on a %s stack', (_, context) => {
      const built = buildParley(context);
      expect(violationsOf(built).map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    });

    it('is acknowledged only where a finding arises, each time with a reason', () => {
      const built = synthParley(withPush);
      const acknowledged = acknowledgementsIn(built.stack);
      expect(acknowledged.length).toBeGreaterThan(0);
      for (const { reason } of acknowledged) expect(reason.length).toBeGreaterThan(40);

      const acknowledge = jest.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => undefined);
      let unacknowledged: Synthesized;
      try {
        unacknowledged = buildParley(withPush);
      } finally {
        acknowledge.mockRestore();
      }
      const findings = violationsOf(unacknowledged).flatMap((v) =>
        v.violatingResources.map((resource) => ({ id: v.ruleName, path: resource.constructPath })),
      );
      for (const { path, id } of acknowledged) {
        const arises = findings.some((finding) => finding.id === id && (finding.path === path || (finding.path ?? '').startsWith(`${path}/`)));
        expect({ path, id, arises }).toEqual({ path, id, arises: true });
      }
    });
  });

  describe('the runtime', () => {
    it('is the Node.js the tests run on: the deployed runtime, the bundles’ target and package.json’s engines name one major', () => {
      const built = synthParley();
      const runtimes = new Set(Object.values(built.template.findResources('AWS::Lambda::Function')).map((fn) => fn.Properties.Runtime));
      const major = process.versions.node.split('.')[0];
      expect([...runtimes]).toEqual([`nodejs${major}.x`]);
      expect(DEFAULT_BUNDLING.target).toBe(`node${major}`);
      const engines = (JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
      expect(engines).toBe(`>=${major}`);
      // The newest runtime this CDK knows: cdk-nag's AwsSolutions-L1 has nothing to say.
      expect(acknowledgementsIn(built.stack).filter((a) => a.id === 'AwsSolutions-L1')).toEqual([]);
    });
  });

  describe('CloudFormation’s built-in template validation', () => {
    it('finds nothing, not even a warning', () => {
      expect(() => buildParley({ '@aws-cdk/core:validateAgainstDefaultRules': true }, true)).not.toThrow();
    });
  });
});
