import type { Digest } from '../../lambda/domain';
import { RegistryClient } from '../../lambda/registry';
import { pushImage, type PushOptions } from '../../tools/pusher';
import {
  startRegistry,
  type RegistryProcess,
  type RegistryProcessOptions,
} from '../../tools/registry-process';

const DAY_MS = 86_400_000;

/** An ISO time `days` days before now: a build's `created`. */
export function daysAgo(days: number): string {
  return new Date(Date.now() - days * DAY_MS).toISOString();
}

/** What {@link useRegistry} gives each test: a fresh registry and a client of it. */
export interface RegistryFixture {
  readonly registry: RegistryProcess;
  readonly client: RegistryClient;
}

/**
 * A fresh registry (temporary storage, a free 127.0.0.1 port) and a client of it for every test of
 * the enclosing `describe`, stopped after each; call it at the top of the `describe`. The getters
 * throw outside a test.
 */
export function useRegistry(options?: RegistryProcessOptions): RegistryFixture {
  let current: { registry: RegistryProcess; client: RegistryClient } | undefined;
  beforeEach(async () => {
    const registry = await startRegistry(options);
    current = { registry, client: new RegistryClient({ registry: registry.url }) };
  });
  afterEach(async () => {
    await current?.client.close();
    await current?.registry.stop();
    current = undefined;
  });
  const get = (): { registry: RegistryProcess; client: RegistryClient } => {
    if (!current) throw new Error('useRegistry: only inside a test');
    return current;
  };
  return {
    get registry() {
      return get().registry;
    },
    get client() {
      return get().client;
    },
  };
}

/**
 * Pushes `${prefix}1` .. `${prefix}${count}` (default `build-`), build-n created `daysOld(n)` days
 * ago (default `10 - n`: one day apart, the highest number newest); returns their digests by
 * number (index 0 unused).
 */
export async function pushBuilds(
  url: string,
  repository: string,
  count: number,
  options: {
    readonly prefix?: string;
    readonly daysOld?: (n: number) => number;
    readonly push?: Omit<PushOptions, 'created'>;
  } = {},
): Promise<Digest[]> {
  const digests: Digest[] = [];
  for (let n = 1; n <= count; n += 1) {
    const pushed = await pushImage(url, repository, `${options.prefix ?? 'build-'}${n}`, {
      ...options.push,
      created: daysAgo(options.daysOld?.(n) ?? 10 - n),
    });
    digests[n] = pushed.digest as Digest;
  }
  return digests;
}
