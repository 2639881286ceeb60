#!/usr/bin/env node
/**
 * The CDK app: `npx cdk synth`, `npx cdk deploy -c parley:stageName=dev`. The stack is named after its
 * stage, `Parley-<stage>` (`Parley-prod` by default; `parley:stackName` overrides it, e.g. to keep a stack
 * deployed as `Parley`), so stages deploy side by side in one account. It is environment-agnostic (it
 * deploys to the account and region of the caller's credentials) and reads its settings from the
 * `parley:*` context in cdk.json or `-c`; cdk-nag's AWS Solutions checks run at synth, and an
 * unacknowledged error stops it.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ParleyStack, stackNameOf } from '../lib/parley-stack';

const app = new App();
new ParleyStack(app, stackNameOf(app));
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
