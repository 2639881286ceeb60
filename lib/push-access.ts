/**
 * Access to SNS mobile push, from a function's `pushEndpoints` declaration: the actions each kind of
 * access needs, on the platform applications the deployment was given and on their endpoints only.
 */
import { Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { PushPlatformApplications } from '../lambdas/function-environment';
import type { PushEndpointAccess } from '../lambdas/functions';
import { pushPlatforms, type PushPlatform } from '../lambdas/resources';
import { entriesOf } from './definitions';

/** The SNS actions of each kind of access, on the applications (`CreatePlatformEndpoint`) or on their endpoints. */
const ACTIONS: Readonly<Record<PushEndpointAccess, { onApplications: string[]; onEndpoints: string[] }>> = {
  register: { onApplications: ['sns:CreatePlatformEndpoint'], onEndpoints: ['sns:SetEndpointAttributes'] },
  publish: { onApplications: [], onEndpoints: ['sns:Publish'] },
  delete: { onApplications: [], onEndpoints: ['sns:GetEndpointAttributes', 'sns:DeleteEndpoint'] },
};

/**
 * Refuses an ARN that is not an SNS platform application of the platform it is given for, so that a
 * mistake fails the synth instead of every registration. ARNs must be known at synth time: the IAM
 * scope of the endpoints is derived from them.
 */
export function checkPushPlatformApplications(applications: PushPlatformApplications): void {
  for (const [platform, arn] of entriesOf(applications)) {
    if (!(platform in pushPlatforms)) {
      throw new Error(`Unknown push platform ${JSON.stringify(platform)}: use ${Object.keys(pushPlatforms).join(', ')}`);
    }
    const snsPlatform = pushPlatforms[platform as PushPlatform];
    const pattern = new RegExp(`^arn:[\\w-]+:sns:[\\w-]+:\\d{12}:app/${snsPlatform}/[\\w.-]+$`);
    if (typeof arn !== 'string' || Token.isUnresolved(arn) || !pattern.test(arn)) {
      throw new Error(
        `The ${platform} push platform application must be the ARN of an SNS platform application of platform ${snsPlatform} ` +
          `(arn:aws:sns:<region>:<account>:app/${snsPlatform}/<name>), not ${JSON.stringify(arn)}`,
      );
    }
  }
}

/** `arn:…:app/APNS/MyApp` → `arn:…:endpoint/APNS/MyApp/*`: every endpoint of that application. */
export const endpointsOf = (applicationArn: string): string => `${applicationArn.replace(':app/', ':endpoint/')}/*`;

/** Grants `fn` what its `pushEndpoints` declare, on `applications` and their endpoints; nothing when push is off. */
export function grantPushEndpoints(
  fn: IFunction,
  access: readonly PushEndpointAccess[],
  applications: PushPlatformApplications,
): void {
  const applicationArns = Object.values(applications);
  if (applicationArns.length === 0 || access.length === 0) return;
  const onApplications = access.flatMap((kind) => ACTIONS[kind].onApplications);
  const onEndpoints = access.flatMap((kind) => ACTIONS[kind].onEndpoints);
  if (onApplications.length) {
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: onApplications, resources: applicationArns }));
  }
  const endpoints = applicationArns.map(endpointsOf);
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: onEndpoints, resources: endpoints }));
  for (const resource of endpoints) {
    Validations.of(fn.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${resource}]`,
      reason:
        'SNS creates one endpoint per device push token at run time, with an id of its own; the grant covers the ' +
        'endpoints of this one platform application and no other SNS resource.',
    });
  }
}
