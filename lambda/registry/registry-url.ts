import { InvalidRegistryUrlError } from './errors';

/**
 * Validates a registry base URL and returns its origin (`http://127.0.0.1:5000`). The value is
 * refused rather than repaired when it carries a path, query, fragment or user info: those
 * would either be ignored silently or leak credentials into every error message.
 */
export function registryOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidRegistryUrlError('not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidRegistryUrlError(`scheme ${url.protocol} is not http: or https:`);
  }
  if (url.username || url.password) throw new InvalidRegistryUrlError('it contains credentials');
  if (url.pathname !== '/' && url.pathname !== '')
    throw new InvalidRegistryUrlError(`it has a path (${url.pathname})`);
  if (url.search || value.includes('?')) throw new InvalidRegistryUrlError('it has a query');
  if (url.hash || value.includes('#')) throw new InvalidRegistryUrlError('it has a fragment');
  return url.origin;
}
