import channels from 'node:diagnostics_channel';

import pMap from 'p-map';
import { Agent, type Dispatcher } from 'undici';

import { KEEP_ALIVE_TIMEOUT_MS, RegistryClient } from '../../lambda/registry';
import type { TrialRegistry } from '../registry-trials';
import { elapsedMs } from '../stats';

/** HEADs per pass: enough for a steady rate, few enough to keep the bench short. */
export const HEADS_PER_PASS = 2_500;

/** How HEAD requests were sent: by regsweep's client as it is, or forced to close the connection. */
export type HeadVariant = 'regsweep' | 'connection-close';

/** One pass of HEADs over the tags of the first repositories. */
export interface HeadPass {
  readonly variant: HeadVariant;
  readonly requests: number;
  readonly wallMs: number;
  readonly requestsPerSecond: number;
  readonly clientCpuMsPerRequest: number;
  readonly registryCpuMsPerRequest: number;
  readonly connections: number;
}

/**
 * By default undici closes the connection after every HEAD (it sends `connection: close`, guarding
 * against servers that wrongly send a body with a HEAD answer), so each HEAD costs a TCP
 * connection unless the request says `reset: false`. This resolves the tags of the first
 * repositories (about {@link HEADS_PER_PASS}) with regsweep's client as it is (`regsweep`) and with
 * its HEADs forced back to undici's default (`connection-close`), back to back: what connection
 * reuse is worth on this registry.
 */
export async function measureHeadKeepAlive(
  registry: TrialRegistry,
  repositories: readonly string[],
  concurrency: number,
  rounds: number,
): Promise<HeadPass[]> {
  const lister = new RegistryClient({ registry: registry.url, concurrency });
  const work: Array<{ repository: string; tag: string }> = [];
  try {
    for (const repository of repositories) {
      if (work.length >= HEADS_PER_PASS) break;
      for await (const tag of lister.tags(repository)) work.push({ repository, tag });
    }
  } finally {
    await lister.close();
  }
  const passes: HeadPass[] = [];
  for (let round = 0; round < rounds; round += 1) {
    for (const variant of ['regsweep', 'connection-close'] as const)
      passes.push(await pass(registry, work, concurrency, variant));
  }
  return passes;
}

async function pass(
  registry: TrialRegistry,
  work: ReadonlyArray<{ repository: string; tag: string }>,
  concurrency: number,
  variant: HeadVariant,
): Promise<HeadPass> {
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS });
  const dispatcher =
    variant === 'regsweep'
      ? agent
      : agent.compose(
          (dispatch) => (options: Dispatcher.DispatchOptions, handler) =>
            dispatch(options.method === 'HEAD' ? { ...options, reset: true } : options, handler),
        );
  const client = new RegistryClient({ registry: registry.url, concurrency, dispatcher });
  let connections = 0;
  const onConnect = (): void => {
    connections += 1;
  };
  channels.subscribe('undici:client:connected', onConnect);
  const registryCpu = registry.cpuSeconds();
  const clientCpu = process.cpuUsage();
  const started = performance.now();
  try {
    await pMap(work, ({ repository, tag }) => client.resolve(repository, tag), { concurrency });
    const wallMs = elapsedMs(started);
    const cpu = process.cpuUsage(clientCpu);
    return {
      variant,
      requests: work.length,
      wallMs,
      requestsPerSecond: work.length / (wallMs / 1000),
      clientCpuMsPerRequest: (cpu.user + cpu.system) / 1000 / work.length,
      registryCpuMsPerRequest: ((registry.cpuSeconds() - registryCpu) * 1000) / work.length,
      connections,
    };
  } finally {
    channels.unsubscribe('undici:client:connected', onConnect);
    await client.close();
    await agent.close();
  }
}
