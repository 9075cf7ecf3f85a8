/**
 * `regsweep/cdk`: regsweep on AWS as a CDK construct library.
 *
 * ```ts
 * import { App, Stack } from 'aws-cdk-lib';
 * import { RegistryCleaner } from 'regsweep/cdk';
 *
 * const app = new App();
 * const stack = new Stack(app, 'Registry');
 * new RegistryCleaner(stack, 'RegistryCleaner', {
 *   registryUrl: 'https://registry.example.com',
 *   policy: 'policy.yaml',
 * });
 * ```
 *
 * Needs `aws-cdk-lib` 2 and `constructs` 10 (peer dependencies). The Lambda handlers ship
 * prebuilt in the package: synth bundles nothing and needs neither esbuild nor Docker.
 *
 * @packageDocumentation
 */
export { RegistryCleaner } from './registry-cleaner';
export type { RegistryCleanerProps } from './registry-cleaner-props';
export type { PolicySource } from './policy-source';
export { RegistryCleanerConfigError } from './errors';
export { CleanerMonitoring, type CleanerMonitoringProps } from './cleaner-monitoring';
export { LedgerTable, type LedgerTableProps, type LedgerUse } from './ledger-table';
export { RegsweepStack, type RegsweepStackProps } from './regsweep-stack';
export { readAppContext, CONTEXT_KEYS, DEFAULT_STACK_NAME, type AppConfig } from './app-context';
