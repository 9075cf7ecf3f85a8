import { parseDuration } from './duration';
import { PolicyError } from './errors';
import { compileRepositoryGlobs, compileWholeTag } from './matchers';
import {
  validatePolicyDocument,
  type PolicyDocument,
  type RuleDocument,
  type RuleOrder,
  type UntaggedDocument,
} from './schema';

/** A protect pattern: its source for reasons, and the compiled whole-tag regex. */
export interface ProtectPattern {
  readonly source: string;
  readonly regex: RegExp;
}

/** A rule with its regexes and globs compiled once, at load. */
export interface CompiledRule {
  readonly name: string;
  readonly document: RuleDocument;
  readonly order: RuleOrder;
  readonly matchesRepository: (repository: string) => boolean;
  readonly tags?: RegExp;
  readonly exclude?: RegExp;
  readonly groupBy?: RegExp;
  readonly keep?: number;
  readonly olderThanMs?: number;
  /** Needs the ledger: a candidate whose digest was pulled within this many ms of `now` stays. */
  readonly keepPulledWithinMs?: number;
}

/** An `untagged` entry with its globs and durations compiled (needs the ledger). */
export interface CompiledUntagged {
  readonly document: UntaggedDocument;
  readonly matchesRepository: (repository: string) => boolean;
  readonly olderThanMs: number;
  readonly keepPulledWithinMs?: number;
}

/** The `ledger` section, compiled. */
export interface CompiledLedgerSettings {
  /** User-agent regexes, searched (not anchored): pulls from matching agents are not use. */
  readonly ignorePullsFrom: readonly RegExp[];
}

/** A compiled policy: the normalized document plus compiled regexes and glob matchers. */
export interface Policy {
  readonly document: PolicyDocument;
  readonly protect: readonly ProtectPattern[];
  readonly rules: readonly CompiledRule[];
  /** Empty when the policy has no `untagged` entries. */
  readonly untagged: readonly CompiledUntagged[];
  /** `ignorePullsFrom` is empty when the policy has no `ledger` section. */
  readonly ledger: CompiledLedgerSettings;
}

/**
 * Validates and compiles a policy given as a value: a parsed file, the `REGSWEEP_POLICY` JSON
 * of a Lambda, or CDK props. A `PolicyDocument` compiles back to an equal document.
 *
 * @param source - where it came from (a file name), prefixed to each line of an error message
 *
 * @throws PolicyError listing every issue, each naming its field (`rules[1].tags: ...`)
 */
export function compilePolicy(value: unknown, source?: string): Policy {
  const { document, issues } = validatePolicyDocument(value);
  if (!document) throw new PolicyError(issues, { ...(source !== undefined && { source }) });
  return {
    document,
    protect: document.protect.map((pattern) => ({ source: pattern, regex: compileWholeTag(pattern) })),
    rules: document.rules.map(compileRule),
    untagged: (document.untagged ?? []).map(compileUntagged),
    ledger: { ignorePullsFrom: (document.ledger?.ignorePullsFrom ?? []).map((source) => new RegExp(source)) },
  };
}

function compileUntagged(entry: UntaggedDocument): CompiledUntagged {
  return {
    document: entry,
    matchesRepository: compileRepositoryGlobs(entry.repositories),
    olderThanMs: parseDuration(entry.olderThan),
    ...(entry.keepPulledWithin !== undefined && {
      keepPulledWithinMs: parseDuration(entry.keepPulledWithin),
    }),
  };
}

function compileRule(rule: RuleDocument): CompiledRule {
  return {
    name: rule.name,
    document: rule,
    order: rule.order,
    matchesRepository: compileRepositoryGlobs(rule.repositories),
    ...(rule.tags !== undefined && { tags: compileWholeTag(rule.tags) }),
    ...(rule.exclude !== undefined && { exclude: compileWholeTag(rule.exclude) }),
    ...(rule.groupBy !== undefined && { groupBy: compileWholeTag(rule.groupBy) }),
    ...(rule.keep !== undefined && { keep: rule.keep }),
    ...(rule.olderThan !== undefined && { olderThanMs: parseDuration(rule.olderThan) }),
    ...(rule.keepPulledWithin !== undefined && {
      keepPulledWithinMs: parseDuration(rule.keepPulledWithin),
    }),
  };
}

/** The rules whose `repositories` globs match `repository`, in policy order. */
export function rulesForRepository(policy: Policy, repository: string): CompiledRule[] {
  return policy.rules.filter((rule) => rule.matchesRepository(repository));
}

/** True when some rule's or `untagged` entry's `repositories` globs match `repository` (the sweep queues only these). */
export function policyCoversRepository(policy: Policy, repository: string): boolean {
  return (
    policy.rules.some((rule) => rule.matchesRepository(repository)) ||
    policy.untagged.some((entry) => entry.matchesRepository(repository))
  );
}
