import { REQUEST_KINDS } from '../../lambda/registry';
import type { EndState } from '../measure/end-state';
import { REGISTRY_CLI_WORKERS } from '../measure/registry-cli-shaped';
import { fixed, percent, seconds, table } from './format';
import { lambdaSection, ledgerSection, plannerSection } from './sections';
import { sideBySideSection } from './side-by-side';
import type { BenchReport, CliMeasurement } from './types';

function endState(state: EndState): string {
  return (
    `${state.removed} removed, ${state.notRemoved} left that should have gone, ` +
    `${state.keptLost} kept tags lost, ${state.keptChanged} kept tags changed, ${state.brokenIndexes} broken multi-arch images`
  );
}

function runRow(label: string, run: CliMeasurement): string[] {
  return [
    label,
    seconds(run.wallMs),
    fixed(run.tagsPerSecond),
    `${fixed(run.maxRssMiB)} MiB`,
    `${fixed(run.cpuSeconds, 1)} s`,
    `${fixed(run.registryCpuSeconds, 1)} s`,
    `${run.requests} / ${run.connections}`,
  ];
}

/** The human report: bench/results/latest.md. */
export function renderMarkdown(report: BenchReport): string {
  const { machine, seed, plan, sweep, baseline, registryCli, ceiling, requests } = report;
  const out: string[] = [];
  out.push(`# regsweep bench${report.quick ? ' (--quick)' : ''}`);
  out.push('');
  out.push(
    `${report.generatedAt} · commit ${report.commit} · ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB · Node ${machine.node} · ` +
      `${machine.registry} · storage ${report.storage} · load average ${machine.loadAverageAtStart[0]} at start, ` +
      `${machine.loadAverageAtEnd} at end (the machine is shared: compare within this report) · ` +
      `bench took ${fixed(report.durationSeconds)} s`,
  );
  out.push('');
  out.push(
    `Seed: ${seed.repositories} repositories × ${seed.tags / seed.repositories} tags = ${seed.tags} tags ` +
      `(${seed.configBlobs} images, multi-arch indexes, OCI and Docker manifests, shared digests), pushed in ` +
      `${fixed(seed.seconds, 1)} s (${fixed(seed.tagsPerSecond)} tags/s); every trial starts from a copy of that storage. ` +
      `The policy removes ${seed.plan.delete + seed.plan.untag} tags (${percent((seed.plan.delete + seed.plan.untag) / seed.plan.tags)}): ` +
      `${seed.plan.delete} with their digest, ${seed.plan.untag} tag-only. regsweep runs at its default concurrency (${report.concurrency}).`,
  );
  out.push('');

  out.push('## Targets');
  out.push('');
  out.push(
    table(
      ['what', 'target', 'measured', 'met'],
      report.targets.map((check) => [check.name, check.target, check.measured, check.met ? 'yes' : '**no**']),
    ),
  );
  out.push('');

  out.push('## regsweep and the curl loop, same seed, same removals');
  out.push('');
  out.push(
    table(
      ['run (median)', 'wall', 'tags/s', 'peak RSS', 'client CPU', 'registry CPU', 'requests / connections'],
      [
        [
          `regsweep plan (${plan.runs.length} runs)`,
          seconds(plan.wallMs),
          fixed(plan.tagsPerSecond),
          `${fixed(plan.maxRssMiB)} MiB`,
          `${fixed(plan.cpuSeconds, 1)} s`,
          `${fixed(plan.registryCpuSeconds, 1)} s`,
          `${plan.runs[0]?.requests ?? 0} / ${plan.runs[0]?.connections ?? 0}`,
        ],
        [
          `regsweep sweep (${sweep.runs.length} runs)`,
          seconds(sweep.wallMs),
          fixed(sweep.tagsPerSecond),
          `${fixed(sweep.maxRssMiB)} MiB`,
          `${fixed(sweep.cpuSeconds, 1)} s`,
          `${fixed(sweep.registryCpuSeconds, 1)} s`,
          `${sweep.runs[0]?.requests ?? 0} / ${sweep.runs[0]?.connections ?? 0}`,
        ],
        [
          'curl loop (bench/baseline.sh, 1 run)',
          seconds(baseline.wallMs),
          `${fixed(baseline.tagsPerSecond)} (removals only)`,
          'n/a',
          `${fixed(baseline.cpuSeconds, 1)} s`,
          `${fixed(baseline.registryCpuSeconds, 1)} s`,
          `${baseline.tags * 2} / ${baseline.tags * 2}`,
        ],
        [
          `registry-cli-shaped loop (HEAD + DELETE, ${REGISTRY_CLI_WORKERS} workers, 1 run)`,
          seconds(registryCli.wallMs),
          `${fixed(registryCli.tagsPerSecond)} (removals only)`,
          'n/a',
          'n/a',
          `${fixed(registryCli.registryCpuSeconds, 1)} s`,
          `${registryCli.requests} / ${registryCli.requests}`,
        ],
      ],
    ),
  );
  out.push('');
  out.push(
    `**sweep is ${fixed(registryCli.sweepSpeedup, 2)}× the speed of the registry-cli-shaped loop** (its requests exactly: ` +
      `a HEAD and a DELETE per removed tag on 4 workers, a new connection per request, no re-read of the repository, ` +
      `no digest safety). It did: ${registryCli.accepted} DELETEs 202, ${registryCli.alreadyGone} 404 (digest gone with another tag), ` +
      `${registryCli.failed} failed. Registry afterwards: ${endState(registryCli.endState)}.`,
  );
  out.push('');
  out.push(
    `**sweep is ${fixed(baseline.sweepSpeedup, 1)}× faster than the curl loop** on the same ${baseline.tags} removals, ` +
      `while also planning (listing, resolving and dating ${seed.tags} tags) and re-reading every tag just before removing. ` +
      `Tags/s counts every tag in the registry for regsweep, removed tags for the loop. Wall time of the CLI runs includes Node's start-up.`,
  );
  out.push('');
  out.push(
    `What the loop did: ${baseline.accepted} DELETEs answered 202, ${baseline.noDigest} tags got no digest from its ` +
      `Docker-only Accept header (OCI images and indexes: nothing deleted), ${baseline.refused} DELETEs were refused. ` +
      `Registry afterwards: ${endState(baseline.endState)}.`,
  );
  out.push('');
  out.push(
    `What regsweep did: results ${Object.entries(sweep.results)
      .map(([result, count]) => `${count} ${result}`)
      .join(', ')}; registry afterwards (each run): ${sweep.endStates.map(endState).join('; ')}.`,
  );
  out.push('');

  out.push(...sideBySideSection(report.sideBySide));

  out.push('## HTTP requests per tag (the CLI runs, by RegistryClient.stats kind)');
  out.push('');
  // Token requests are listed even at 0: the bench registry is anonymous, and the report says so.
  const kinds = REQUEST_KINDS.filter((kind) => kind === 'token' || requests.sweep.byKind[kind] > 0);
  out.push(
    table(
      ['kind', 'plan', 'plan per tag', 'sweep', 'sweep per tag'],
      [
        ...kinds.map((kind) => [
          kind,
          requests.plan.byKind[kind],
          fixed(requests.plan.perTag[kind], 3),
          requests.sweep.byKind[kind],
          fixed(requests.sweep.perTag[kind], 3),
        ]),
        [
          '**total**',
          requests.plan.total,
          fixed(requests.plan.totalPerTag, 3),
          requests.sweep.total,
          fixed(requests.sweep.totalPerTag, 3),
        ],
        ['TCP connections', requests.plan.connections, '', requests.sweep.connections, ''],
      ],
    ),
  );
  out.push('');

  out.push('## The registry-bound ceiling');
  out.push('');
  out.push(
    table(
      [
        'plan run',
        'raw HEAD/s',
        'raw GET manifest/s',
        'raw GET config blob/s',
        'ceiling (HEAD/s ÷ requests/tag)',
        'ceiling by kind',
        'plan',
        'of ceiling',
        'of ceiling by kind',
      ],
      ceiling.runs.map((run, index) => [
        `${index + 1}`,
        fixed(run.head.requestsPerSecond),
        fixed(run.getManifest.requestsPerSecond),
        fixed(run.getBlob.requestsPerSecond),
        `${fixed(run.ceilingTagsPerSecond)} tags/s`,
        `${fixed(run.weightedTagsPerSecond)} tags/s`,
        `${fixed(run.planTagsPerSecond)} tags/s`,
        percent(run.planTagsPerSecond / run.ceilingTagsPerSecond),
        percent(run.planTagsPerSecond / run.weightedTagsPerSecond),
      ]),
    ),
  );
  out.push('');
  out.push(
    `Raw rates: autocannon, ${report.concurrency} keep-alive connections (regsweep's default concurrency), one kept ` +
      `image's manifest (full Accept list) and config blob, measured right before each plan run. The plan sends ` +
      `${fixed(requests.plan.totalPerTag, 2)} requests per tag, so the ceiling is raw HEAD/s ÷ ${fixed(requests.plan.totalPerTag, 2)}: ` +
      `**the plan runs at ${percent(ceiling.planFraction)} of it** (median). A config blob GET costs the registry ` +
      `${fixed(ceiling.headPerSecond / ceiling.getBlobPerSecond, 1)}× a manifest HEAD, so no client reaches the HEAD-only ceiling ` +
      `with one blob read per image; with each kind at its own raw rate the plan runs at ${percent(ceiling.planFractionWeighted)}.`,
  );
  out.push('');

  out.push(
    `The plan is CPU-bound on this machine: its registry and client CPU (${fixed(plan.registryCpuSeconds, 1)} s + ` +
      `${fixed(plan.cpuSeconds, 1)} s) over ${machine.cpus} cores take ${fixed(report.bound.planFloorSeconds, 1)} s; ` +
      `the plan took ${seconds(plan.wallMs)} (${percent(report.bound.planFloorSeconds / (plan.wallMs / 1000))} of what the cores allow).`,
  );
  out.push('');

  out.push('## HEADs and connection reuse');
  out.push('');
  out.push(
    table(
      [
        'pass (HEAD of every tag)',
        'requests',
        'requests/s',
        'connections',
        'client CPU per request',
        'registry CPU per request',
      ],
      report.headKeepAlive.map((pass) => [
        pass.variant === 'regsweep'
          ? 'as regsweep sends them'
          : "forced to undici's default for HEAD (`connection: close`)",
        pass.requests,
        fixed(pass.requestsPerSecond),
        pass.connections,
        `${fixed(pass.clientCpuMsPerRequest, 2)} ms`,
        `${fixed(pass.registryCpuMsPerRequest, 2)} ms`,
      ]),
    ),
  );
  out.push('');
  out.push(
    'undici sends `connection: close` with every HEAD unless the request says `reset: false` (a guard against servers ' +
      'that send a body with a HEAD answer; registries do not), which would cost every HEAD of the plan and of the ' +
      "sweep's re-verification a TCP connection. lambda/registry/transport.ts sends HEADs with `reset: false`; the " +
      'connections column shows which way this build sends them.',
  );
  out.push('');

  out.push('## What bounds the sweep');
  out.push('');
  out.push(
    `The registry's CPU: a manifest HEAD costs it ${fixed(report.bound.headRegistryCpuMs, 2)} ms, a manifest DELETE ` +
      `about ${fixed(report.bound.deleteRegistryCpuMs, 1)} ms (distribution 2.x reads the link of every tag in the ` +
      `repository on each DELETE, so the cost grows with the repository). Spread over all ${machine.cpus} cores, the ` +
      `sweep's registry CPU alone takes ${fixed(report.bound.sweepFloorSeconds, 1)} s (the sweep took ${seconds(sweep.wallMs)}), ` +
      `and its ${requests.sweep.byKind['delete-manifest']} DELETEs alone ${fixed(report.bound.deletesFloorSeconds, 1)} s: even a tool ` +
      `that only deleted, with no plan and no re-verification, could not beat the curl loop by more than ` +
      `${fixed(report.bound.deletesOnlySpeedupLimit, 1)}× on this machine. The re-verification (list + HEAD of every tag ` +
      `of a repository just before its removals) costs the registry about ${fixed(report.bound.verifyRegistryCpuSeconds, 1)} s ` +
      `of CPU (${percent(report.bound.verifyRegistryCpuSeconds / (sweep.registryCpuSeconds || Number.NaN))} of the sweep's): ` +
      'it does not dominate, and keep-alive HEADs (above) keep it cheap without weakening it.',
  );
  out.push('');

  out.push(...plannerSection(report));
  out.push(...ledgerSection(report));
  out.push(...lambdaSection(report));

  out.push('## Every run');
  out.push('');
  out.push(
    table(
      ['run', 'wall', 'tags/s', 'peak RSS', 'client CPU', 'registry CPU', 'requests / connections'],
      [
        ...plan.runs.map((run, index) => runRow(`plan ${index + 1}`, run)),
        ...sweep.runs.map((run, index) => runRow(`sweep ${index + 1}`, run)),
      ],
    ),
  );
  out.push('');

  out.push('## Method');
  out.push('');
  out.push(
    [
      '- One registry (distribution, `docker-registry serve`, 127.0.0.1) is seeded once by a bench-only seeder; each trial runs on a `cp -a` copy of its storage, so every tool sees the same bytes.',
      '- regsweep runs as users run it: `node dist/regsweep.js plan|sweep --json` in a fresh process; wall time is spawn to exit; peak RSS, CPU and connections come from a preloaded probe (`process.resourceUsage()`, undici diagnostics channels); registry CPU from /proc.',
      "- Requests are counted in the CLI process by the same probe, on undici's `undici:request:create` channel (every attempt, retries and redirects included), sorted into the kinds of `RegistryClient.stats` by method and path.",
      '- The baseline is `bench/baseline.sh`: per tag, `curl -sI` with the Docker schema2 Accept header for `Docker-Content-Digest`, then `curl -X DELETE` of that digest, sequentially, over exactly the tags the plan removes; the registry is then compared with the plan.',
      '- The ceiling is autocannon against one manifest (full Accept list) and one config blob, with as many connections as regsweep has requests in flight, measured right before each plan run.',
      '- Two cores run the registry, the client and other jobs alike: CPU seconds are steadier than wall time when the machine is busy.',
    ].join('\n'),
  );
  out.push('');
  return `${out.join('\n')}\n`;
}
