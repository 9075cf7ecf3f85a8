import type * as z from 'zod/mini';

/** `['rules', 1, 'tags']` → `rules[1].tags`. */
function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else text += text ? `.${String(key)}` : String(key);
  }
  return text || 'policy';
}

/**
 * One zod issue as lines naming the field (`rules[1].tags: ...`); an unknown key gets a hint:
 * the known key it most likely meant, or the list of known keys.
 *
 * @param knownKeys - the keys of the mapping at a path
 */
export function formatIssue(
  issue: z.core.$ZodIssue,
  knownKeys: (path: readonly PropertyKey[]) => string[],
): string[] {
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
