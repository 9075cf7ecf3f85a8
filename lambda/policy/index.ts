/**
 * The retention policy: schema, validation, and the planner that turns an inventory into a
 * plan. Pure: no I/O, no clock, no environment.
 */
export * from './errors';
export { parseDuration, formatAge, DURATION_UNIT_MS } from './duration';
export { referrerSubject } from './matchers';
export {
  defaultRuleName,
  PROTECT_RULE_NAME,
  RULE_ORDERS,
  type LedgerDocument,
  type PolicyDocument,
  type RuleDocument,
  type RuleOrder,
  type UntaggedDocument,
} from './schema';
export {
  compilePolicy,
  rulesForRepository,
  policyCoversRepository,
  type Policy,
  type CompiledLedgerSettings,
  type CompiledRule,
  type CompiledUntagged,
  type ProtectPattern,
} from './policy';
export {
  assertLedgerAvailable,
  ledgerRequirements,
  LEDGER_HINT,
  policyAgeNeed,
  policyNeedsAge,
  type AgeNeed,
} from './requirements';
export { parsePolicy } from './parse';
export { planCleanup, type PlanOptions } from './planner';
export { compareNatural } from './order';
export { plannedRemovals, deleteLimitExceeded } from './limits';
export {
  planUntagged,
  reachableFromTags,
  reclaimableBytes,
  untaggedEntryFor,
  type KnownManifest,
} from './untagged';
