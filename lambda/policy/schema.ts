import * as z from 'zod/mini';
import { registryUrlProblem } from '../domain';
import { durationProblem } from './duration';
import { formatIssue } from './issues';
import { captureGroupCount, globProblem, regexProblem } from './matchers';

/**
 * How a rule orders the candidates of a stream, newest first: by image age (`created`), by
 * semantic version, by tag name with embedded numbers compared as numbers (`natural`), or by the
 * ledger's last push of the tag (`pushed`, falling back to `created` for tags it never saw).
 */
export type RuleOrder = 'created' | 'semver' | 'natural' | 'pushed';

/** Every {@link RuleOrder}, in the order the error message lists them. */
export const RULE_ORDERS: readonly RuleOrder[] = ['created', 'semver', 'natural', 'pushed'];

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
  /** Needs the ledger: a candidate whose digest was pulled within this duration stays. */
  keepPulledWithin?: string;
}

/**
 * Needs the ledger: which untagged manifests (no tag reaches them any more) are removed by digest.
 * Schema and compiled form only so far; the planner of untagged manifests comes later.
 */
export interface UntaggedDocument {
  /** Repository globs; default `['**']`. */
  repositories: string[];
  /** Untagged for longer than this (since the push that replaced it). */
  olderThan: string;
  /** A manifest pulled by digest within this duration stays. */
  keepPulledWithin?: string;
}

/** What the ledger records, and what it ignores. */
export interface LedgerDocument {
  /** User-agent regexes (searched, not anchored) whose pulls are not use. */
  ignorePullsFrom: string[];
}

/** The normalized, JSON-serializable policy (defaults applied). Passed to Lambdas as JSON. */
export interface PolicyDocument {
  registry?: string;
  /** Whole-tag regexes: matching tags are never removed. */
  protect: string[];
  rules: RuleDocument[];
  /** Absent when the file leaves it out, so that older documents compile back unchanged. */
  untagged?: UntaggedDocument[];
  limits: { maxDeletesPerRun?: number };
  /** Absent when the file leaves it out. */
  ledger?: LedgerDocument;
}

/** The rule name that marks protected tags in a plan, so no rule may take it. */
export const PROTECT_RULE_NAME = 'protect';

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

// A user agent is matched anywhere in it (`^Trivy/` anchors itself), unlike the whole-tag regexes.
const userAgentRegexField = z
  .string({ error: expected('a user-agent regular expression (a string; quote it in YAML)') })
  .check(regexCheck);

const repositoriesField = z
  .array(globField, { error: expected('a list of repository globs, e.g. ["apps/**"]') })
  .check(
    z.minLength(1, {
      error: 'expected at least one repository glob (leave the field out for all repositories)',
    }),
  );

const nonNegativeInteger = 'a non-negative integer';
const positiveInteger = 'a positive integer';

const ruleSchema = z.strictObject(
  {
    name: z.optional(nonEmptyString('a rule name')),
    repositories: z.optional(repositoriesField),
    tags: z.optional(regexField),
    exclude: z.optional(regexField),
    groupBy: z.optional(groupByField),
    order: z.optional(
      z.enum(RULE_ORDERS as [RuleOrder, ...RuleOrder[]], {
        error: `expected one of ${RULE_ORDERS.map((order) => `'${order}'`).join(', ')}`,
      }),
    ),
    keep: z.optional(
      z
        .int({ error: expected(nonNegativeInteger) })
        .check(z.minimum(0, { error: `expected ${nonNegativeInteger}` })),
    ),
    olderThan: z.optional(durationField),
    keepPulledWithin: z.optional(durationField),
  },
  { error: expected('a rule (a mapping)') },
);

const untaggedSchema = z.strictObject(
  {
    repositories: z.optional(repositoriesField),
    olderThan: durationField,
    keepPulledWithin: z.optional(durationField),
  },
  { error: expected('an untagged entry (a mapping with olderThan)') },
);

const limitsSchema = z.strictObject(
  {
    maxDeletesPerRun: z.optional(
      z
        .int({ error: expected(positiveInteger) })
        .check(z.minimum(1, { error: `expected ${positiveInteger}` })),
    ),
  },
  { error: expected('a mapping') },
);

const ledgerSchema = z.strictObject(
  {
    ignorePullsFrom: z.optional(
      z.array(userAgentRegexField, { error: expected('a list of user-agent regular expressions') }),
    ),
  },
  { error: expected('a mapping') },
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
    untagged: z.optional(z.array(untaggedSchema, { error: expected('a list of untagged entries') })),
    limits: z.optional(limitsSchema),
    ledger: z.optional(ledgerSchema),
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
    const issues = result.error?.issues.flatMap((issue) => formatIssue(issue, knownKeys)) ?? [];
    return { issues: [...issues, ...nameIssues] };
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
      ...(rule.keepPulledWithin !== undefined && { keepPulledWithin: rule.keepPulledWithin }),
    })),
    ...(input.untagged !== undefined && {
      untagged: input.untagged.map((entry) => ({
        repositories: [...(entry.repositories ?? ['**'])],
        olderThan: entry.olderThan,
        ...(entry.keepPulledWithin !== undefined && { keepPulledWithin: entry.keepPulledWithin }),
      })),
    }),
    limits: {
      ...(input.limits?.maxDeletesPerRun !== undefined && {
        maxDeletesPerRun: input.limits.maxDeletesPerRun,
      }),
    },
    ...(input.ledger !== undefined && {
      ledger: { ignorePullsFrom: [...(input.ledger.ignorePullsFrom ?? [])] },
    }),
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

/** The keys of the mapping at `path`, for the typo hints of an unknown key. */
function knownKeys(path: readonly PropertyKey[]): string[] {
  const section = path[0];
  if (path.length === 0) return Object.keys(policySchema.shape);
  if (section === 'limits') return Object.keys(limitsSchema.shape);
  if (section === 'ledger') return Object.keys(ledgerSchema.shape);
  if (section === 'untagged') return Object.keys(untaggedSchema.shape);
  return Object.keys(ruleSchema.shape);
}
