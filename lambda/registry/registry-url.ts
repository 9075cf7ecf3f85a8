/** The rule lives in the domain (the policy checks its `registry:` with it too); kept for lib/'s import path. */
export { registryOrigin } from '../domain/registry-url';
