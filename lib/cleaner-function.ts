import { existsSync } from 'node:fs';
import path from 'node:path';
import { Validations, type Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The Lambda handlers of `lambda/handlers/`, by file name. */
export type HandlerName = 'webhook' | 'worker' | 'sweep';

const PROJECT_ROOT = path.join(__dirname, '..');

/**
 * The handler bundles that ship in the package: `npm run build` (scripts/build.mjs) writes them to
 * `dist/handlers/<name>/index.js`, beside the compiled `regsweep/cdk` module (`dist/cdk.js`), from
 * the same sources with the same esbuild options as {@link BUNDLING}. Undefined when this module
 * runs from its TypeScript source (this repository: the tests, `cdk synth` of `bin/app.ts`): then
 * the handlers are bundled from `lambda/handlers/` at synth time, so a stale bundle never hides
 * an edit.
 */
export const PREBUILT_HANDLERS_DIR = __filename.endsWith('.ts')
  ? undefined
  : path.join(__dirname, 'handlers');

/**
 * How every handler is bundled: local esbuild (never Docker), minified, CommonJS for Node 22, with
 * source maps (without the sources: they would only double the upload). scripts/build.mjs builds
 * the packaged bundles with these options too (test/infra/bundles.smoke.test.ts compares the two).
 *
 * The AWS SDK v3 stays out of the bundle: the Node 22 runtime provides it, the handlers call only
 * long-stable operations (`GetSecretValue`, `SendMessageBatch`, `ChangeMessageVisibility`, and
 * the ledger's DynamoDB item reads and writes), and leaving it out keeps the bundles half a
 * megabyte smaller (undici and zod are most of what remains).
 */
export const BUNDLING: nodejs.BundlingOptions = {
  forceDockerBundling: false,
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  target: 'node22',
  format: nodejs.OutputFormat.CJS,
  externalModules: ['@aws-sdk/*'],
  logLevel: nodejs.LogLevel.WARNING,
};

/** Configuration of one {@link CleanerFunction}. */
export interface CleanerFunctionProps {
  /** Which handler of `lambda/handlers/` to bundle. */
  readonly handler: HandlerName;
  readonly description: string;
  /** The `REGSWEEP_*` variables of the Lambda contract (DESIGN.md). */
  readonly environment: Readonly<Record<string, string>>;
  readonly timeout: Duration;
  /** In MB. */
  readonly memorySize: number;
  readonly logRetention: logs.RetentionDays;
  /** @default no reservation */
  readonly reservedConcurrentExecutions?: number;
  /** @default no VPC */
  readonly vpc?: ec2.IVpc;
  /** @default the VPC's private subnets with egress */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** @default a new group allowing all outbound traffic */
  readonly securityGroups?: ec2.ISecurityGroup[];
}

/**
 * One regsweep Lambda (Node 22, arm64) with its own log group and its own role, which starts with
 * nothing but writing to that log group; callers grant the rest. Its code is the prebuilt bundle of
 * the installed package, or (from the TypeScript sources) a `NodejsFunction` bundled at synth.
 */
export class CleanerFunction extends Construct {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  public constructor(scope: Construct, id: string, props: CleanerFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `regsweep ${props.handler} function`,
    });
    // Instead of AWSLambdaBasicExecutionRole (logs:* on every log group): this log group only.
    this.logGroup.grantWrite(this.role);
    if (props.vpc) {
      // Lambda checks at deploy time that a VPC function's role may manage network interfaces.
      this.role.addManagedPolicy(
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'),
      );
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason:
          'A Lambda function in a VPC needs ec2:CreateNetworkInterface, DescribeNetworkInterfaces and ' +
          'DeleteNetworkInterface, which cannot be scoped to resources; AWSLambdaVPCAccessExecutionRole ' +
          'grants exactly these (plus the logs actions) and AWS keeps it current.',
      });
    }

    const options: lambda.FunctionOptions = {
      architecture: lambda.Architecture.ARM_64,
      description: props.description,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
      ...(props.reservedConcurrentExecutions !== undefined && {
        reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      }),
      ...(props.vpc && {
        vpc: props.vpc,
        ...(props.vpcSubnets && { vpcSubnets: props.vpcSubnets }),
        ...(props.securityGroups && { securityGroups: props.securityGroups }),
      }),
    };
    this.function = PREBUILT_HANDLERS_DIR
      ? new lambda.Function(this, 'Function', {
          ...options,
          runtime: lambda.Runtime.NODEJS_22_X,
          code: lambda.Code.fromAsset(prebuiltBundle(props.handler)),
          handler: 'index.handler',
        })
      : new nodejs.NodejsFunction(this, 'Function', {
          ...options,
          entry: path.join(PROJECT_ROOT, 'lambda', 'handlers', `${props.handler}.ts`),
          handler: 'handler',
          depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
          projectRoot: PROJECT_ROOT,
          runtime: lambda.Runtime.NODEJS_22_X,
          bundling: BUNDLING,
        });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'regsweep targets Node.js 22 (the Lambda contract in DESIGN.md): its bundles are built and ' +
        'tested for that runtime; move to a newer runtime together with the build target.',
    });
  }
}

/** The directory of a packaged handler bundle; fails clearly when the package was built without it. */
function prebuiltBundle(handler: HandlerName): string {
  const directory = path.join(PREBUILT_HANDLERS_DIR ?? '', handler);
  if (!existsSync(path.join(directory, 'index.js'))) {
    throw new Error(
      `regsweep: the ${handler} Lambda bundle is missing (${directory}/index.js); ` +
        'the package was built without `npm run build`',
    );
  }
  return directory;
}
