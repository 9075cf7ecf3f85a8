import YAML, { LineCounter } from 'yaml';
import { PolicySyntaxError } from './errors';
import { compilePolicy, type Policy } from './policy';

// Kept apart from policy.ts: the Lambdas receive the policy as JSON and never load the YAML parser.
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
  return compilePolicy(document.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT }), source);
}
