export * from './types';
export * from './errors';
export { RegistryClient, DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS } from './client';
export { MAX_LIST_PAGE_BYTES, MAX_LIST_ENTRIES, MAX_LIST_PAGES } from './listing';
export { MAX_MANIFEST_BYTES, resolvedFrom } from './manifests';
export type { ReferrerDescriptor } from './referrers';
export { MAX_CONFIG_BYTES, INDEX_CHILD_CONCURRENCY } from './image-created';
export { CREATED_ANNOTATION, EARLIEST_PLAUSIBLE_CREATED_MS, plausibleCreated } from './created';
export { PLACEHOLDER_ANNOTATION, EMPTY_DESCRIPTOR, isPlaceholderFor } from './placeholder';
export {
  parseChallenges,
  parseScopes,
  formatScope,
  TOKEN_REFRESH_MARGIN_MS,
  DEFAULT_TOKEN_LIFETIME_MS,
} from './auth';
export type { Challenge, Scope } from './auth';
export { nextLink } from './link';
export { parseRetryAfter, backoffDelayMs, MAX_RETRY_AFTER_MS } from './backoff';
export { registryOrigin } from '../domain/registry-url';
