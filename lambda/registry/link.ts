import { ForeignHostError } from './errors';

/**
 * The `rel="next"` target of a `Link` header (RFC 8288), resolved against the URL of the request
 * that returned it, or undefined when there is no next page. Paging must stay on the registry:
 * a next link to another origin is refused with {@link ForeignHostError} rather than followed
 * (the request would carry the registry's Authorization).
 *
 * @param header - the raw `Link` header value(s)
 * @param requestUrl - the URL of the request that returned the header
 * @param method - the request method, for the error
 */
export function nextLink(
  header: string | string[] | undefined,
  requestUrl: string,
  method = 'GET',
): string | undefined {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  for (const value of values) {
    for (const link of splitLinks(value)) {
      const match = /^\s*<([^>]*)>(.*)$/s.exec(link);
      if (!match) continue;
      const [, target = '', parameters = ''] = match;
      if (!relations(parameters).includes('next')) continue;
      let resolved: URL;
      try {
        resolved = new URL(target, requestUrl);
      } catch (cause) {
        throw new ForeignHostError(`the registry sent an unparsable next-page link`, {
          method,
          url: requestUrl,
          cause,
        });
      }
      const origin = new URL(requestUrl).origin;
      if (resolved.origin !== origin) {
        throw new ForeignHostError(
          `the registry's next-page link points at ${resolved.origin}, not at ${origin}; refusing to follow it`,
          { method, url: requestUrl },
        );
      }
      return resolved.toString();
    }
  }
  return undefined;
}

/** Splits a Link header on the commas between links, not those inside `<...>` or quotes. */
function splitLinks(value: string): string[] {
  const links: string[] = [];
  let current = '';
  let inTarget = false;
  let inQuotes = false;
  for (const character of value) {
    if (character === '<' && !inQuotes) inTarget = true;
    else if (character === '>' && !inQuotes) inTarget = false;
    else if (character === '"' && !inTarget) inQuotes = !inQuotes;
    if (character === ',' && !inTarget && !inQuotes) {
      links.push(current);
      current = '';
    } else {
      current += character;
    }
  }
  if (current.trim()) links.push(current);
  return links;
}

/** The lower-cased relation types of `; rel="next prev"` / `; rel=next` parameters. */
function relations(parameters: string): string[] {
  const match = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(parameters);
  const value = match?.[1] ?? match?.[2] ?? '';
  return value.toLowerCase().split(/\s+/).filter(Boolean);
}
