import { RegistryClient } from '../registry';
import type { LambdaEnvironment } from './environment';
import type { SecretStore } from './secrets';

/**
 * The registry client of a function: credentials come from the secret (cached), and are read
 * again from Secrets Manager when the registry rejects them (the secret may have been rotated).
 */
export function registryClientFor(environment: LambdaEnvironment, secrets: SecretStore): RegistryClient {
  return new RegistryClient({
    registry: environment.registry,
    credentials: async (context) =>
      (context?.refresh ? await secrets.refresh() : await secrets.get()).credentials,
  });
}
