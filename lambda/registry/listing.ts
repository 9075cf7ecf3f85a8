import type { Scope } from './auth';
import { RegistryError, parseErrorBody, responseError } from './errors';
import { parseJsonBody, type TransportResponse } from './http';
import { nextLink } from './link';
import { DEFAULT_MAX_BODY_BYTES, type RegistrySession } from './session';

/** A catalog or tag list page; distribution 2.x answers a whole tag list in one page. */
export const MAX_LIST_PAGE_BYTES = DEFAULT_MAX_BODY_BYTES;
/**
 * The most entries one listing yields (tags of one repository, or repositories of the catalog):
 * far beyond real registries, and a bound on what a registry that pages forever can make
 * regsweep hold in memory (about 50 MiB of names).
 */
export const MAX_LIST_ENTRIES = 500_000;
/** The most pages one listing follows, for registries that page forever with empty pages. */
export const MAX_LIST_PAGES = 10_000;

/**
 * The names in the `field` array of every page of a listing (non-strings skipped), at most
 * {@link MAX_LIST_ENTRIES}; a `null` or missing array is an empty page.
 */
export async function* listEntries(
  session: RegistrySession,
  firstUrl: string,
  kind: 'catalog' | 'tags',
  scopes: readonly Scope[],
  what: string,
  field: 'repositories' | 'tags',
): AsyncGenerator<string> {
  let count = 0;
  for await (const page of listPages(session, firstUrl, kind, scopes, what)) {
    const entries = (page as Record<string, unknown> | null)?.[field];
    if (!Array.isArray(entries)) continue;
    for (const entry of entries) {
      if (typeof entry !== 'string') continue;
      count += 1;
      if (count > MAX_LIST_ENTRIES) {
        throw new RegistryError(
          `listing ${what}: the registry lists more than ${MAX_LIST_ENTRIES.toLocaleString('en')} ${field}; refusing to read further`,
          { method: 'GET', url: firstUrl },
        );
      }
      yield entry;
    }
  }
}

/**
 * Yields the parsed JSON of each page of a catalog or tag list, following `Link: rel="next"` on
 * the registry's own origin. Ends without a page when a tag list answers 404 (no such repository).
 */
export async function* listPages(
  session: RegistrySession,
  firstUrl: string,
  kind: 'catalog' | 'tags',
  scopes: readonly Scope[],
  what: string,
): AsyncGenerator<unknown> {
  const seen = new Set<string>();
  const page = (url: string) =>
    session.send({ method: 'GET', url, kind, scopes, what, maxBodyBytes: MAX_LIST_PAGE_BYTES });
  for (let url: string | undefined = firstUrl; url !== undefined;) {
    // A registry that links back to a page already read would otherwise page forever.
    if (seen.has(url))
      throw new RegistryError(`${what}: the registry's next-page links loop`, { method: 'GET', url });
    if (seen.size >= MAX_LIST_PAGES) {
      throw new RegistryError(
        `listing ${what}: the registry sends more than ${MAX_LIST_PAGES.toLocaleString('en')} pages; refusing to read further`,
        { method: 'GET', url },
      );
    }
    seen.add(url);
    let response = await page(url);
    if (isPageSizeRefused(response) && new URL(url).searchParams.has('n')) {
      // distribution 2.8.2 refuses an `n` above its catalog.maxentries: let it choose the size.
      const unsized = new URL(url);
      unsized.searchParams.delete('n');
      response = await page(unsized.toString());
    }
    if (response.status === 404 && kind === 'tags') return;
    if (response.status !== 200) throw responseError(response, 'GET', `listing ${what}`);
    yield parseJsonBody(response, 'GET', `listing ${what}`);
    url = nextLink(response.headers.link, response.url);
  }
}

function isPageSizeRefused(response: TransportResponse): boolean {
  return response.status === 400 && parseErrorBody(response.body)[0]?.code === 'PAGINATION_NUMBER_INVALID';
}
