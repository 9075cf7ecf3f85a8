import YAML from 'yaml';

import { assertLoopbackUrl } from './ports';

/** The response header that carries a registry's instance id. */
export const INSTANCE_HEADER = 'X-Regsweep-Instance';

/** One notification endpoint of the registry (`notifications.endpoints[]`). */
export interface NotificationEndpoint {
  /** @default `endpoint-<index>` */
  name?: string;
  /** Where the registry posts events: must be a 127.0.0.1 URL in tests. */
  url: string;
  /** Sent with every post, e.g. `{ Authorization: ['Bearer ...'] }`. */
  headers?: Record<string, string[]>;
  /** Go duration. @default '1s' */
  timeout?: string;
  /** Failures before the endpoint backs off. @default 3 */
  threshold?: number;
  /** Go duration. @default '100ms' */
  backoff?: string;
}

/** `auth.token` settings: what the registry needs to verify an issuer's JWTs. */
export interface TokenAuthSettings {
  realm: string;
  service: string;
  issuer: string;
  /** Path of a PEM file holding the issuer's certificate. */
  rootCertBundle: string;
}

/** Everything that goes into a generated config; resolved paths and port included. */
export interface RegistryConfigInput {
  port: number;
  /** Sent back in an `X-Regsweep-Instance` header: proves which process answered on the port. */
  instanceId: string;
  storageDir: string;
  secret: string;
  deleteEnabled: boolean;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  htpasswdPath?: string;
  token?: TokenAuthSettings;
  catalogMaxEntries?: number;
  /** `http.draintimeout` (Go duration). */
  drainTimeout?: string;
  notifications?: NotificationEndpoint[];
}

/**
 * The registry's YAML configuration (distribution 2.8 format, `version: 0.1`). No redis, no
 * blob-descriptor cache (it can report blobs that garbage-collect removed), upload purging off
 * (it would race with tests that leave uploads open), access log off so `logs()` stays readable.
 */
export function registryConfigYaml(input: RegistryConfigInput): string {
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: input.logLevel, accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: input.storageDir },
      delete: { enabled: input.deleteEnabled },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: {
      addr: `127.0.0.1:${input.port}`,
      secret: input.secret,
      headers: { [INSTANCE_HEADER]: [input.instanceId] },
      ...(input.drainTimeout !== undefined && { draintimeout: input.drainTimeout }),
    },
  };
  if (input.htpasswdPath && input.token) {
    throw new Error('registry config: choose htpasswd or token auth, not both');
  }
  if (input.htpasswdPath) {
    config.auth = { htpasswd: { realm: 'regsweep-test', path: input.htpasswdPath } };
  }
  if (input.token) {
    config.auth = {
      token: {
        realm: input.token.realm,
        service: input.token.service,
        issuer: input.token.issuer,
        rootcertbundle: input.token.rootCertBundle,
      },
    };
  }
  if (input.catalogMaxEntries !== undefined) {
    config.catalog = { maxentries: input.catalogMaxEntries };
  }
  if (input.notifications && input.notifications.length > 0) {
    config.notifications = {
      endpoints: input.notifications.map((endpoint, index) => ({
        // The registry posts to this URL from its own process: keep it on loopback too.
        url: assertLoopbackUrl(endpoint.url, 'notification endpoint').href,
        name: endpoint.name ?? `endpoint-${index}`,
        ...(endpoint.headers && { headers: endpoint.headers }),
        timeout: endpoint.timeout ?? '1s',
        threshold: endpoint.threshold ?? 3,
        backoff: endpoint.backoff ?? '100ms',
      })),
    };
  }
  return YAML.stringify(config);
}
