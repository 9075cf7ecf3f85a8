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
  type PolicyDocument,
  type RuleDocument,
  type RuleOrder,
} from './schema';
export {
  compilePolicy,
  rulesForRepository,
  policyCoversRepository,
  policyNeedsAge,
  type Policy,
  type CompiledRule,
  type ProtectPattern,
} from './policy';
export { parsePolicy } from './parse';
export { planCleanup, type PlanOptions } from './planner';
export { plannedRemovals, deleteLimitExceeded } from './limits';
