/**
 * The engine API of the `regsweep` package: load a retention policy, connect to a registry, plan,
 * sweep. What the `regsweep` CLI does, as functions.
 *
 * ```ts
 * import { loadPolicyFile, planRun, RegistryClient } from 'regsweep';
 *
 * const client = new RegistryClient({ registry: 'https://registry.example.com' });
 * try {
 *   const { plan } = await planRun({ client, policy: loadPolicyFile('policy.yaml') });
 *   console.log(plan.summary);
 * } finally {
 *   await client.close();
 * }
 * ```
 *
 * Needs neither `aws-cdk-lib` nor `constructs`: the CDK construct is the separate entry point
 * `regsweep/cdk`.
 *
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { parsePolicy, type Policy } from './policy';

// The policy: parse and validate once, then hand the compiled `Policy` to the engine.
export {
  compilePolicy,
  parsePolicy,
  policyCoversRepository,
  PolicyError,
  PolicySyntaxError,
  DurationError,
  type Policy,
  type PolicyDocument,
  type RuleDocument,
  type RuleOrder,
} from './policy';

// Reading the registry and deciding (planRun), then acting on it (sweepRun), and the single-tag
// removals of `regsweep delete`.
export {
  planRun,
  sweepRun,
  removeTag,
  removeDigest,
  EngineError,
  DeleteLimitExceededError,
  SweepInterruptedError,
  NotFoundError,
  RemovalRefusedError,
  type RemoveTagOptions,
  type RemoveDigestOptions,
  type RunOptions,
  type PlannedRun,
  type TagRemoval,
  type DigestRemoval,
  type Phase,
  type ProgressEvent,
  type ProgressListener,
} from './engine';

// The registry client the engine works through, with its options and typed errors.
export {
  RegistryClient,
  DEFAULT_CONCURRENCY,
  RegistryError,
  AuthenticationError,
  DeletionDisabledError,
  DigestMismatchError,
  ForeignHostError,
  InvalidRegistryUrlError,
  RegistryUnreachableError,
  ResponseTooLargeError,
  UntagNotPermittedError,
  type Credentials,
  type CredentialsProvider,
  type RegistryClientOptions,
  type RetryOptions,
  type RequestStats,
} from './registry';

// The plan (the stable JSON of `regsweep plan --json`) and the registry vocabulary it uses.
export type {
  Plan,
  PlanSummary,
  PlannedTag,
  RepositoryPlan,
  TagAction,
  TagResult,
  UntagMethod,
  Digest,
  Reference,
} from './domain';
export { parseReference, formatReference, InvalidReferenceError } from './domain';

/**
 * Reads and validates a retention policy file (YAML or JSON), as `regsweep validate` does.
 *
 * @param file - the policy file's path (relative paths resolve against the working directory)
 * @throws PolicySyntaxError for bad YAML (with line and column) or an empty file
 * @throws PolicyError for a policy that parses but is invalid; every issue names its field
 * @throws the file system's error (`ENOENT`, ...) when the file cannot be read
 */
export function loadPolicyFile(file: string): Policy {
  return parsePolicy(readFileSync(file, 'utf8'), file);
}
