import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { SIDE_BY_SIDE_KEEP } from './seed/side-by-side';

/** What one bench run does; `--quick` shrinks every size so the run fits a smoke test. */
export interface BenchOptions {
  readonly quick: boolean;
  readonly repositories: number;
  readonly tagsPerRepository: number;
  /** CLI runs of `plan` (on one seeded registry) and of `sweep` (each on a fresh copy). */
  readonly planRepeats: number;
  readonly sweepRepeats: number;
  /** Seconds of each autocannon measurement of the registry's raw capacity. */
  readonly ceilingSeconds: number;
  /** Synthetic inventory sizes for the planner alone. */
  readonly plannerSizes: readonly number[];
  /** Tags per repository in the planner's multi-repository shape. */
  readonly plannerTagsPerRepository: number;
  /** Fresh-process imports of each Lambda bundle. */
  readonly importRepeats: number;
  /** regsweep's default, and the ceiling's load. */
  readonly concurrency: number;
  /** Events recorded into a SQLite ledger (its throughput and its size) and into dynalite. */
  readonly sqliteEvents: number;
  readonly dynaliteEvents: number;
  /** The side-by-side section's seed (issue 14's shape: 6 × 100, keep 5) and its trials of each tool. */
  readonly sideRepositories: number;
  readonly sideTagsPerRepository: number;
  readonly sideRepeats: number;
  /** Also run the side-by-side section pinned (registry on CPU 0, client on CPU 1) when it can. */
  readonly pin: boolean;
  /** registry-cli's registry.py: the real registry-cli runs in the side-by-side section only with it. */
  readonly registryCli?: string;
  /** Where the report goes. */
  readonly outDir: string;
  /** Where the registry's storage lives (tmpfs when there is one). */
  readonly storageRoot?: string;
}

export const BENCH_ROOT = __dirname;
export const PROJECT_ROOT = join(__dirname, '..');

const DEFAULTS: BenchOptions = {
  quick: false,
  repositories: 20,
  tagsPerRepository: 250,
  planRepeats: 3,
  sweepRepeats: 3,
  ceilingSeconds: 3,
  plannerSizes: [10_000, 100_000, 1_000_000],
  plannerTagsPerRepository: 10_000,
  importRepeats: 5,
  concurrency: 8,
  sqliteEvents: 100_000,
  dynaliteEvents: 5_000,
  sideRepositories: 6,
  sideTagsPerRepository: 100,
  sideRepeats: 3,
  pin: true,
  outDir: join(BENCH_ROOT, 'results'),
};

const QUICK: Partial<BenchOptions> = {
  quick: true,
  repositories: 2,
  tagsPerRepository: 50,
  planRepeats: 1,
  sweepRepeats: 1,
  ceilingSeconds: 1,
  plannerSizes: [1_000, 10_000],
  plannerTagsPerRepository: 1_000,
  importRepeats: 1,
  sqliteEvents: 2_000,
  dynaliteEvents: 500,
  sideRepositories: 2,
  sideTagsPerRepository: 20,
  sideRepeats: 1,
};

const USAGE = `usage: npx tsx bench/run.ts [--quick] [--repositories N] [--tags N] [--repeats N] [--out DIR] [--storage DIR]
  --quick          2 x 50 tags, one run of each, small planner sizes (a smoke test)
  --repositories   repositories to seed (default 20)
  --tags           tags per repository (default 250)
  --repeats        CLI runs of plan and of sweep (default 3; medians are reported)
  --out            report directory (default bench/results)
  --storage        where registry storage lives (default /dev/shm when present, else the temp dir)
  side by side (issue 14's seed: 6 x 100 tags, keep 5; --quick: 2 x 20, 1 run):
  --side-repositories, --side-tags, --side-repeats   its seed and its runs of each tool (default 6, 100, 3)
  --registry-cli   path to registry-cli's registry.py: also run the real one (python3 with requests, dateutil)
  --no-pin         skip the pinned variant (registry on CPU 0, client on CPU 1; run when there are 2 cores and taskset)`;

/** Parses the command line; throws with the usage text on a mistake. */
export function parseOptions(argv: readonly string[]): BenchOptions {
  let options: BenchOptions = { ...DEFAULTS, ...(argv.includes('--quick') && QUICK) };
  for (let index = 0; index < argv.length; index += 1) {
    const flag = argv[index] as string;
    if (flag === '--quick') continue;
    if (flag === '--no-pin') {
      options = { ...options, pin: false };
      continue;
    }
    const value = argv[index + 1];
    index += 1;
    if (value === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
    const count = (): number => {
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < 1)
        throw new Error(`${flag}: expected a positive integer\n${USAGE}`);
      return parsed;
    };
    switch (flag) {
      case '--repositories':
        options = { ...options, repositories: count() };
        break;
      case '--tags':
        options = { ...options, tagsPerRepository: count() };
        break;
      case '--repeats':
        options = { ...options, planRepeats: count(), sweepRepeats: count() };
        break;
      case '--out':
        options = { ...options, outDir: value };
        break;
      case '--storage':
        options = { ...options, storageRoot: value };
        break;
      case '--side-repositories':
        options = { ...options, sideRepositories: count() };
        break;
      case '--side-tags':
        options = { ...options, sideTagsPerRepository: count() };
        break;
      case '--side-repeats':
        options = { ...options, sideRepeats: count() };
        break;
      case '--registry-cli':
        if (!existsSync(value)) throw new Error(`--registry-cli: no such file ${value}\n${USAGE}`);
        options = { ...options, registryCli: resolve(value) };
        break;
      default:
        throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  if (options.tagsPerRepository < 30)
    throw new Error(`--tags: at least 30 (the scenario needs room for its streams)\n${USAGE}`);
  if (options.sideTagsPerRepository <= SIDE_BY_SIDE_KEEP)
    throw new Error(`--side-tags: more than ${SIDE_BY_SIDE_KEEP} (the tags each repository keeps)\n${USAGE}`);
  return options;
}
