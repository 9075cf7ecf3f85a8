/**
 * A `RegistryCleaner` (or the CDK app) was configured wrongly: conflicting or out-of-range props,
 * a bad registry URL, or a policy that does not validate. Thrown while the construct tree is built,
 * so `cdk synth` fails with this message and nothing is deployed.
 *
 * `issues` holds one line per problem, each naming the prop or policy field at fault.
 */
export class RegistryCleanerConfigError extends Error {
  public readonly issues: string[];

  public constructor(issues: readonly string[], options?: { cause?: unknown }) {
    super(`invalid regsweep configuration:\n  ${issues.join('\n  ')}`, options);
    this.name = 'RegistryCleanerConfigError';
    this.issues = [...issues];
  }
}
