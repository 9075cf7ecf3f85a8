import { dirname } from 'node:path';

import autocannon from 'autocannon';

import { MANIFEST_ACCEPT } from '../../lambda/domain';

/** The request kinds whose raw rate is measured. */
export type RawKind = 'head-manifest' | 'get-manifest' | 'get-blob';

/** One autocannon measurement. */
export interface RawRate {
  readonly kind: RawKind;
  readonly requestsPerSecond: number;
  readonly requests: number;
  readonly errors: number;
}

/** autocannon parses responses with http-parser-js; its constant for the headers-complete callback. */
const parserModule = require.resolve('http-parser-js', { paths: [dirname(require.resolve('autocannon'))] });
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { HTTPParser } = require(parserModule) as { HTTPParser: { kOnHeadersComplete: number } };

type ParserCallbacks = Record<number, (info: unknown) => unknown>;

/**
 * The registry's raw capacity for one request, with nothing but autocannon in front of it:
 * `connections` keep-alive connections (regsweep's default concurrency), the full Accept list.
 *
 * A HEAD answer announces a Content-Length but has no body; autocannon's parser would wait for
 * that body, so each client's parser is told to skip it, as Node's own HTTP client does.
 */
export async function measureRawRate(
  url: string,
  kind: RawKind,
  connections: number,
  seconds: number,
): Promise<RawRate> {
  const method = kind === 'head-manifest' ? 'HEAD' : 'GET';
  const result = await autocannon({
    url,
    method,
    connections,
    duration: seconds,
    headers: kind === 'get-blob' ? {} : { accept: MANIFEST_ACCEPT.join(', ') },
    setupClient: (client) => {
      if (method !== 'HEAD') return;
      // The client installs its parser callbacks after this hook: wrap them once it has.
      process.nextTick(() => {
        const parser = (client as unknown as { parser: ParserCallbacks }).parser;
        const onHeadersComplete = parser[HTTPParser.kOnHeadersComplete] as (info: unknown) => unknown;
        parser[HTTPParser.kOnHeadersComplete] = (info) => {
          onHeadersComplete(info);
          return true; // skip the body
        };
      });
    },
  });
  const ok = result['2xx'];
  return {
    kind,
    requestsPerSecond: ok / (result.duration || seconds),
    requests: ok,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}
