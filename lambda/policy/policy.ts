import YAML, { LineCounter } from 'yaml';
import { parseDuration } from './duration';
import { PolicyError, PolicySyntaxError } from './errors';
import { compileRepositoryGlobs, compileWholeTag } from './matchers';
import { validatePolicyDocument, type PolicyDocument, type RuleDocument, type RuleOrder } from './schema';

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
}

/** A compiled policy: the normalized document plus compiled regexes and glob matchers. */
export interface Policy {
  readonly document: PolicyDocument;
  readonly protect: readonly ProtectPattern[];
  readonly rules: readonly CompiledRule[];
}

// A policy is a small hand-written file; aliases beyond this are an entity-expansion attack.
const MAX_YAML_ALIAS_COUNT = 100;

/**
 * Parses a policy from YAML or JSON text (YAML 1.2 reads both) and compiles it.
 *
 * @param text - the policy file's contents
 * @param source - where it came from (a file name), prefixed to each line of an error message
 * @throws PolicySyntaxError for bad YAML (with line and column) or an empty file
 * @throws PolicyError for a policy that parses but is invalid; every issue names its field
 */
export function parsePolicy(text: string, source?: string): Policy {
  const lineCounter = new LineCounter();
  const document = YAML.parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    const issues = document.errors.map((error) => {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      // The library's advice for this one names its own API; say what the user can change.
      const message =
        error.code === 'MULTIPLE_DOCS'
          ? 'the policy must be a single YAML document'
          : error.message.split('\n')[0];
      return `line ${line}, column ${col}: ${message}`;
    });
    throw new PolicySyntaxError(issues, {
      ...(source !== undefined && { source }),
      cause: document.errors[0],
    });
  }
  if (document.contents === null) {
    throw new PolicySyntaxError(['the policy is empty'], { ...(source !== undefined && { source }) });
  }
  return compile(document.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT }), source);
}

/**
 * Validates and compiles a policy given as a value: a parsed file, the `REGSWEEP_POLICY` JSON
 * of a Lambda, or CDK props. A `PolicyDocument` compiles back to an equal document.
 *
 * @throws PolicyError listing every issue, each naming its field (`rules[1].tags: ...`)
 */
export function compilePolicy(value: unknown): Policy {
  return compile(value, undefined);
}

function compile(value: unknown, source: string | undefined): Policy {
  const { document, issues } = validatePolicyDocument(value);
  if (!document) throw new PolicyError(issues, { ...(source !== undefined && { source }) });
  return {
    document,
    protect: document.protect.map((pattern) => ({ source: pattern, regex: compileWholeTag(pattern) })),
    rules: document.rules.map(compileRule),
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
  };
}

/** The rules whose `repositories` globs match `repository`, in policy order. */
export function rulesForRepository(policy: Policy, repository: string): CompiledRule[] {
  return policy.rules.filter((rule) => rule.matchesRepository(repository));
}

/** True when some rule's `repositories` globs match `repository` (the sweep queues only these). */
export function policyCoversRepository(policy: Policy, repository: string): boolean {
  return policy.rules.some((rule) => rule.matchesRepository(repository));
}

/**
 * True when planning `repository` needs image ages: some rule covering it orders by `created`
 * with `keep` set, or uses `olderThan`. When false the engine can skip reading config blobs.
 */
export function policyNeedsAge(policy: Policy, repository: string): boolean {
  return rulesForRepository(policy, repository).some(
    (rule) => (rule.order === 'created' && rule.keep !== undefined) || rule.olderThanMs !== undefined,
  );
}
