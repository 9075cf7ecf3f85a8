import type { CompiledRule, ProtectPattern } from './policy';

/** The first protect pattern that matches the whole tag, or undefined. */
export function firstMatching(patterns: readonly ProtectPattern[], tag: string): ProtectPattern | undefined {
  for (const pattern of patterns) if (pattern.regex.test(tag)) return pattern;
  return undefined;
}

/** The index of the first rule whose tags match and whose exclude does not, or -1. */
export function firstMatchingRule(rules: readonly CompiledRule[], tag: string): number {
  for (let index = 0; index < rules.length; index += 1) {
    const rule = rules[index] as CompiledRule;
    if ((!rule.tags || rule.tags.test(tag)) && !rule.exclude?.test(tag)) return index;
  }
  return -1;
}

/** Code-unit order: the same on every machine and locale, unlike localeCompare. */
export function compareText(left: string, right: string): number {
  if (left === right) return 0;
  return left < right ? -1 : 1;
}
