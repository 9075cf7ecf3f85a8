#!/usr/bin/env node
/**
 * The regsweep CDK app: `npx cdk deploy -c registryUrl=https://registry.example.com -c policy=policy.yaml`
 * (see the README, "Deploy to AWS", for every context key). cdk-nag's AwsSolutions checks run on every synth;
 * a finding that is not acknowledged with a written reason fails it.
 *
 * It imports the construct library as a user of the package does, from `regsweep/cdk` (here the
 * TypeScript source: tsconfig.json `paths`, which tsx and jest follow too).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readAppContext, RegistryCleanerConfigError, RegsweepStack } from 'regsweep/cdk';

const app = new App();
try {
  const { stackName, stackProps } = readAppContext((key) => app.node.tryGetContext(key));
  new RegsweepStack(app, stackName, stackProps);
} catch (error) {
  // A configuration problem is the user's to fix: the message names the key or policy field; a
  // stack trace would only bury it.
  if (!(error instanceof RegistryCleanerConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
// cdk-nag 3 runs as a CDK policy-validation plugin: a finding without an acknowledgment fails the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
