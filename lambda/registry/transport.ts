import type { Dispatcher } from 'undici';

import type { BackoffSettings } from './backoff';
import { readAnswerBody } from './body-limits';
import { firstHeader, type SendRequest, type TransportRequest, type TransportResponse } from './http';
import { followRedirects } from './redirects';
import { withRetries } from './retry';
import { Semaphore } from './semaphore';
import { REQUEST_KINDS, type RequestObserver, type RequestStats } from './types';

/** Settings of a {@link Transport}. */
export interface TransportSettings {
  readonly dispatcher: Dispatcher;
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly backoff: BackoffSettings;
  readonly userAgent: string;
  readonly onRequest?: RequestObserver;
}

/**
 * Sends requests through an undici dispatcher, as layers that know nothing of each other:
 * retries (`retry.ts`: full-jitter backoff honouring Retry-After, network failures mapped to
 * registry errors by `network-errors.ts`) around redirects for reads (`redirects.ts`: dropping
 * Authorization when they leave the origin) around one attempt here (the concurrency bound, a
 * User-Agent, header and body timeouts, and the body read within its cap by `body-limits.ts`).
 * Knows nothing about authentication: a 401 is returned like any other answer.
 */
export class Transport {
  public readonly stats: RequestStats;
  /** Sends `request`, retrying temporary failures; returns the final answer whatever its status. */
  public readonly send: SendRequest;
  private readonly semaphore: Semaphore;

  public constructor(private readonly settings: TransportSettings) {
    this.semaphore = new Semaphore(settings.concurrency);
    this.stats = Object.assign(Object.fromEntries(REQUEST_KINDS.map((kind) => [kind, 0])), {
      retries: 0,
    }) as RequestStats;
    this.send = withRetries((request) => followRedirects(request, (...hop) => this.sendOnce(...hop)), {
      maxRetries: settings.maxRetries,
      backoff: settings.backoff,
      onRetry: () => {
        this.stats.retries += 1;
      },
    });
  }

  private async sendOnce(
    request: TransportRequest,
    url: string,
    headers: Readonly<Record<string, string>>,
  ): Promise<TransportResponse> {
    const target = new URL(url);
    const release = await this.semaphore.acquire();
    let status: number | undefined;
    try {
      this.stats[request.kind] += 1;
      const answer = await this.settings.dispatcher.request({
        origin: target.origin,
        path: `${target.pathname}${target.search}`,
        method: request.method,
        headers: {
          ...headers,
          'user-agent': this.settings.userAgent,
          ...(request.body && { 'content-length': String(request.body.length) }),
        },
        ...(request.body && { body: request.body }),
        // undici closes the connection after every HEAD unless told otherwise (a guard against
        // servers that send a body anyway); registries answer HEAD with headers only, and a new
        // TCP connection per tag costs both sides more than the request itself (bench/).
        ...(request.method === 'HEAD' && { reset: false }),
        headersTimeout: this.settings.timeoutMs,
        bodyTimeout: this.settings.timeoutMs,
      });
      status = answer.statusCode;
      const contentLength = firstHeader(answer.headers['content-length']);
      const body = await readAnswerBody(request, url, status, answer.body, contentLength);
      return { status, headers: answer.headers, body, url };
    } finally {
      release();
      this.settings.onRequest?.({
        method: request.method,
        kind: request.kind,
        ...(status !== undefined && { status }),
      });
    }
  }
}
