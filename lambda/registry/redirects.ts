import { ForeignHostError, RegistryError } from './errors';
import { firstHeader, type TransportRequest, type TransportResponse } from './http';

/** Storage backends redirect blob reads (S3, GCS); more hops than this is a loop. */
export const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** True for the statuses whose `Location` a read follows. */
export function isRedirect(status: number): boolean {
  return REDIRECT_STATUSES.has(status);
}

/** Sends `request` to `url` with `headers` once: the hop the redirect layer repeats. */
export type SendHop = (
  request: TransportRequest,
  url: string,
  headers: Readonly<Record<string, string>>,
) => Promise<TransportResponse>;

/**
 * Follows redirects for reads (GET, HEAD), at most {@link MAX_REDIRECTS}, http(s) only. Only a
 * blob read may leave the registry's origin, and then without its Authorization header.
 */
export async function followRedirects(request: TransportRequest, send: SendHop): Promise<TransportResponse> {
  const follows = request.method === 'GET' || request.method === 'HEAD';
  const origin = new URL(request.url).origin;
  let url = request.url;
  let headers = request.headers ?? {};
  for (let hop = 0; ; hop += 1) {
    const response = await send(request, url, headers);
    const location = firstHeader(response.headers.location);
    if (!follows || !isRedirect(response.status) || location === undefined) return response;
    if (hop >= MAX_REDIRECTS) {
      throw new RegistryError(`${request.what}: more than ${MAX_REDIRECTS} redirects`, {
        method: request.method,
        url: request.url,
        statusCode: response.status,
      });
    }
    const next = new URL(location, url);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new RegistryError(`${request.what}: redirected to an unsupported scheme ${next.protocol}`, {
        method: request.method,
        url,
      });
    }
    if (next.origin !== origin) {
      // Storage backends legitimately redirect blob reads to another host, but the registry's
      // credentials must never travel there: the signed URL carries its own authorization.
      // Nothing else has a reason to leave the registry: manifests, tag lists, the catalog
      // and tokens are refused rather than fetched from wherever a registry points.
      if (request.kind !== 'get-blob') {
        throw new ForeignHostError(
          `${request.what}: the registry redirected the request to ${next.origin}; refusing to follow it`,
          { method: request.method, url, statusCode: response.status },
        );
      }
      headers = withoutAuthorization(headers);
    }
    url = next.toString();
  }
}

function withoutAuthorization(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'),
  );
}
