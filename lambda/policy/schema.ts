import * as z from 'zod/mini';
import { registryUrlProblem } from '../domain';
import { durationProblem } from './duration';
import { captureGroupCount, globProblem, regexProblem } from './matchers';

/** How a rule orders the candidates of a stream, newest first. */
export type RuleOrder = 'created' | 'semver';

/** One retention rule, normalized (defaults applied); JSON-serializable. */
export interface RuleDocument {
  /** Unique; defaults to `rules[<index>]` when the file leaves it out. */
  name: string;
  /** Repository globs; default `['**']`. */
  repositories: string[];
  /** Whole-tag regex selecting candidates; absent: every tag. */
  tags?: string;
  /** Whole-tag regex: matching tags are not candidates of this rule (a later rule may take them). */
  exclude?: string;
  /** Whole-tag regex whose capture group 1 names a stream; each stream keeps its own `keep`. */
  groupBy?: string;
  /** Default `created`. */
  order: RuleOrder;
  /** The newest N candidates of each stream stay. */
  keep?: number;
  /** Only candidates older than this duration (`14d`) are removed. */
  olderThan?: string;
}

/** The normalized, JSON-serializable policy (defaults applied). Passed to Lambdas as JSON. */
export interface PolicyDocument {
  registry?: string;
  /** Whole-tag regexes: matching tags are never removed. */
  protect: string[];
  rules: RuleDocument[];
  limits: { maxDeletesPerRun?: number };
}

/** The rule name that marks protected tags in a plan, so no rule may take it. */
export const PROTECT_RULE_NAME = 'protect';

const ROOT_KEYS = ['registry', 'protect', 'rules', 'limits'];
const RULE_KEYS = ['name', 'repositories', 'tags', 'exclude', 'groupBy', 'order', 'keep', 'olderThan'];
const LIMIT_KEYS = ['maxDeletesPerRun'];

/** A zod error setting: `required` when the field is missing, else `expected ...`. */
function expected(what: string) {
  return (issue: { input?: unknown }) =>
    issue.input === undefined ? `required: ${what}` : `expected ${what}`;
}

function nonEmptyString(what: string) {
  return z
    .string({ error: expected(what) })
    .check(z.minLength(1, { error: `expected ${what}, not an empty string` }));
}

const regexCheck: z.core.CheckFn<string> = (ctx) => {
  const problem = regexProblem(ctx.value);
  if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
};

const regexField = z
  .string({ error: expected('a regular expression (a string; quote it in YAML)') })
  .check(regexCheck);

const groupByField = z
  .string({ error: expected('a regular expression (a string; quote it in YAML)') })
  .check(regexCheck, (ctx) => {
    if (regexProblem(ctx.value) === undefined && captureGroupCount(ctx.value) < 1) {
      ctx.issues.push({
        code: 'custom',
        message: 'needs a capture group 1 that names the stream, e.g. (.+)-[0-9a-f]{7}',
        input: ctx.value,
      });
    }
  });

const globField = z.string({ error: expected('a repository glob (a string)') }).check((ctx) => {
  const problem = globProblem(ctx.value);
  if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
});

const durationField = z.string({ error: expected('a duration such as 14d') }).check((ctx) => {
  const problem = durationProblem(ctx.value);
  if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
});

const nonNegativeInteger = 'a non-negative integer';
const positiveInteger = 'a positive integer';

const ruleSchema = z.strictObject(
  {
    name: z.optional(nonEmptyString('a rule name')),
    repositories: z.optional(
      z.array(globField, { error: expected('a list of repository globs, e.g. ["apps/**"]') }).check(
        z.minLength(1, {
          error: 'expected at least one repository glob (leave the field out for all repositories)',
        }),
      ),
    ),
    tags: z.optional(regexField),
    exclude: z.optional(regexField),
    groupBy: z.optional(groupByField),
    order: z.optional(z.enum(['created', 'semver'], { error: "expected 'created' or 'semver'" })),
    keep: z.optional(
      z
        .int({ error: expected(nonNegativeInteger) })
        .check(z.minimum(0, { error: `expected ${nonNegativeInteger}` })),
    ),
    olderThan: z.optional(durationField),
  },
  { error: expected('a rule (a mapping)') },
);

const policySchema = z.strictObject(
  {
    registry: z.optional(
      z.string({ error: expected('a registry URL') }).check((ctx) => {
        const problem = registryProblem(ctx.value);
        if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
      }),
    ),
    protect: z.optional(z.array(regexField, { error: expected('a list of whole-tag regular expressions') })),
    rules: z
      .array(ruleSchema, { error: expected('a list of rules') })
      .check(
        z.minLength(1, { error: 'expected at least one rule (a policy without rules removes nothing)' }),
      ),
    limits: z.optional(
      z.strictObject(
        {
          maxDeletesPerRun: z.optional(
            z
              .int({ error: expected(positiveInteger) })
              .check(z.minimum(1, { error: `expected ${positiveInteger}` })),
          ),
        },
        { error: expected('a mapping') },
      ),
    ),
  },
  { error: (issue) => (issue.input == null ? 'the policy is empty' : 'expected a mapping with rules') },
);

/** The name a rule gets when the policy leaves it out. */
export function defaultRuleName(index: number): string {
  return `rules[${index}]`;
}

/**
 * Validates a policy value (parsed YAML/JSON, or an already normalized document) and returns the
 * normalized document, or the list of issues, each naming its field.
 */
export function validatePolicyDocument(
  value: unknown,
): { document: PolicyDocument; issues?: undefined } | { document?: undefined; issues: string[] } {
  const result = policySchema.safeParse(value);
  // Checked on the raw value, apart from zod, so that a duplicate name is reported together with
  // the other mistakes (zod skips an array's own checks when one of its elements is invalid).
  const nameIssues = ruleNameIssues(value);
  if (!result.success || nameIssues.length > 0) {
    return { issues: [...(result.error?.issues.flatMap(formatIssue) ?? []), ...nameIssues] };
  }
  const input = result.data;
  const document: PolicyDocument = {
    ...(input.registry !== undefined && { registry: input.registry }),
    protect: [...(input.protect ?? [])],
    rules: input.rules.map((rule, index) => ({
      name: rule.name ?? defaultRuleName(index),
      repositories: [...(rule.repositories ?? ['**'])],
      ...(rule.tags !== undefined && { tags: rule.tags }),
      ...(rule.exclude !== undefined && { exclude: rule.exclude }),
      ...(rule.groupBy !== undefined && { groupBy: rule.groupBy }),
      order: rule.order ?? 'created',
      ...(rule.keep !== undefined && { keep: rule.keep }),
      ...(rule.olderThan !== undefined && { olderThan: rule.olderThan }),
    })),
    limits: {
      ...(input.limits?.maxDeletesPerRun !== undefined && {
        maxDeletesPerRun: input.limits.maxDeletesPerRun,
      }),
    },
  };
  return { document };
}

/** Rule names identify rules in plans and reasons: each must be unique, and `protect` is taken. */
function ruleNameIssues(value: unknown): string[] {
  const rules = (value as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(rules)) return [];
  const issues: string[] = [];
  const seen = new Map<string, number>();
  rules.forEach((rule: unknown, index) => {
    const given = (rule as { name?: unknown } | null)?.name;
    if (given !== undefined && typeof given !== 'string') return; // zod reports the type
    const name = given ?? defaultRuleName(index);
    if (name === PROTECT_RULE_NAME)
      issues.push(`rules[${index}].name: '${name}' is reserved for protected tags`);
    const first = seen.get(name);
    if (first === undefined) seen.set(name, index);
    else issues.push(`rules[${index}].name: duplicate rule name '${name}' (also rules[${first}])`);
  });
  return issues;
}

function registryProblem(value: string): string | undefined {
  const problem = registryUrlProblem(value);
  if (problem === undefined) return undefined;
  switch (problem.kind) {
    case 'not-a-url':
    case 'scheme':
      return 'expected an http:// or https:// URL';
    case 'credentials':
      // A policy file is often committed; credentials belong in REGSWEEP_USERNAME/PASSWORD.
      return 'must not contain credentials (use REGSWEEP_USERNAME/REGSWEEP_PASSWORD)';
    default:
      // The client refuses these too: `validate` must not pass what `sweep` then rejects.
      return `${problem.reason}; expected http(s)://host[:port]`;
  }
}

/** `['rules', 1, 'tags']` → `rules[1].tags`. */
function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else text += text ? `.${String(key)}` : String(key);
  }
  return text || 'policy';
}

function formatIssue(issue: z.core.$ZodIssue): string[] {
  const path = issue.path;
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(path);
    return issue.keys.map((key) => {
      const suggestion = suggest(key, known);
      const hint = suggestion
        ? ` (did you mean '${suggestion}'?)`
        : ` (expected one of: ${known.join(', ')})`;
      return `${formatPath([...path, key])}: unknown key${hint}`;
    });
  }
  return [`${formatPath(path)}: ${issue.message}`];
}

function knownKeys(path: readonly PropertyKey[]): string[] {
  if (path.length === 0) return ROOT_KEYS;
  if (path[0] === 'limits') return LIMIT_KEYS;
  return RULE_KEYS;
}

/** The known key a typo most likely meant: same letters ignoring case, or at most 2 edits away. */
function suggest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const exact = known.find((candidate) => candidate.toLowerCase() === lower);
  if (exact) return exact;
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance <= 2 && (!best || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] as number;
}
