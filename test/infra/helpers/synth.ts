import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parse } from 'yaml';
import { RegistryCleaner, type RegistryCleanerProps } from '../../../lib/registry-cleaner';

/** The example policy that cdk.json points at. */
export const EXAMPLE_POLICY = path.join(__dirname, '..', '..', '..', 'examples', 'policy.yaml');
export const EXAMPLE_REGISTRY = 'https://registry.example.com';

/**
 * The example policy without its `limits`: what a stack with `ledger: false` can take (the limit
 * of a scheduled run needs the ledger's shared budget).
 */
export function examplePolicyWithoutLimits(): Record<string, unknown> {
  const { limits: _limits, ...rest } = parse(readFileSync(EXAMPLE_POLICY, 'utf8')) as Record<string, unknown>;
  return rest;
}

/**
 * A CDK app whose cloud assembly goes to a temporary directory. Every stack of one app shares the
 * esbuild bundles (the asset cache is per app), so a test file builds all its stacks in one app.
 *
 * With `bundle: false` no function is bundled (CDK's own `aws:cdk:bundling-stacks` switch, which
 * `cdk list` uses): the template is the same but for the asset hashes, and synth takes
 * milliseconds. Tests of the bundles themselves keep bundling on.
 */
export class TestApp {
  public readonly outdir = mkdtempSync(path.join(tmpdir(), 'regsweep-cdk-'));
  public readonly app: App;

  public constructor(options: { bundle: boolean }) {
    this.app = new App({
      outdir: this.outdir,
      ...(!options.bundle && { context: { 'aws:cdk:bundling-stacks': [] } }),
    });
  }

  /** A stack holding one `RegistryCleaner`, with the example policy and registry unless overridden. */
  public cleanerStack(
    id: string,
    props: Partial<RegistryCleanerProps> = {},
  ): { stack: Stack; cleaner: RegistryCleaner } {
    const stack = new Stack(this.app, id);
    const cleaner = new RegistryCleaner(stack, 'RegistryCleaner', {
      registryUrl: EXAMPLE_REGISTRY,
      policy: props.ledger === false ? examplePolicyWithoutLimits() : EXAMPLE_POLICY,
      ...props,
    });
    return { stack, cleaner };
  }

  /** The staged directory of an asset of `stack`, by the S3 key (`<hash>.zip`) the template names. */
  public assetDirectory(stack: Stack, s3Key: string): string {
    const manifest = JSON.parse(
      readFileSync(path.join(this.outdir, `${stack.artifactId}.assets.json`), 'utf8'),
    ) as { files: Record<string, { source: { path: string } }> };
    const hash = s3Key.replace(/\.zip$/, '');
    const entry = manifest.files[hash];
    if (!entry) throw new Error(`no asset ${hash} in the assembly of ${stack.stackName}`);
    return path.join(this.outdir, entry.source.path);
  }

  public dispose(): void {
    rmSync(this.outdir, { recursive: true, force: true });
  }
}

/** A Stack without resources, for props that fail before anything is built (no bundling). */
export function emptyStack(): Stack {
  return new Stack(new App(), 'Empty');
}

/** The message of what `act` throws; fails the test when it does not throw. */
export function errorMessageOf(act: () => unknown): string {
  try {
    act();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error('expected an error');
}

/** The one resource of `type` in the template, as `[logicalId, resource]`. */
export function onlyResource(
  template: Template,
  type: string,
): [string, { Properties: Record<string, unknown> }] {
  const resources = Object.entries(template.findResources(type));
  if (resources.length !== 1) throw new Error(`expected one ${type}, found ${resources.length}`);
  return resources[0] as [string, { Properties: Record<string, unknown> }];
}

/**
 * The logical id of the one resource of `type` whose id is `prefix` plus CDK's 8-digit hash, e.g.
 * `RegistryCleanerWebhookFunction` for the construct path `RegistryCleaner/Webhook/Function`.
 */
export function logicalIdOf(template: Template, type: string, prefix: string): string {
  const pattern = new RegExp(`^${prefix}[0-9A-F]{8}$`);
  const matches = Object.keys(template.findResources(type)).filter((id) => pattern.test(id));
  if (matches.length !== 1) throw new Error(`expected one ${type} named ${prefix}…, found ${matches.length}`);
  return matches[0];
}
