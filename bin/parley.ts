#!/usr/bin/env node
/**
 * The CDK app: `npx cdk synth`, `npx cdk deploy`. The stack is environment-agnostic (it deploys to the
 * account and region of the caller's credentials) and reads its settings from the `parley:*` context in
 * cdk.json; cdk-nag's AWS Solutions checks run at synth, and an unacknowledged error stops it.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ParleyStack } from '../lib/parley-stack';

const app = new App();
new ParleyStack(app, 'Parley');
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
