import { setTimeout as sleep } from 'node:timers/promises';

import { backoffDelayMs, parseRetryAfter, type BackoffSettings } from './backoff';
import { isTemporaryFailure, ResponseTooLargeError } from './errors';
import type { SendRequest, TransportRequest, TransportResponse } from './http';
import { errorCode, networkError } from './network-errors';

/** Connection refused is retried only briefly: a registry that is down stays down for a while. */
const MAX_REFUSED_RETRIES = 2;
/** Statuses retried even for non-idempotent requests: the server says it did not do the work. */
const NOT_PROCESSED_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** How the retry layer retries. */
export interface RetrySettings {
  readonly maxRetries: number;
  readonly backoff: BackoffSettings;
  /** Called before each pause (counts retries). */
  readonly onRetry?: () => void;
}

/**
 * Wraps `send` with retries of temporary failures: broken connections (idempotent requests only;
 * a refused connection at most {@link MAX_REFUSED_RETRIES} times) and temporary statuses (429,
 * 5xx per {@link isTemporaryFailure}; for non-idempotent requests only 429 and 503), with
 * full-jitter backoff honouring Retry-After. The final answer is returned whatever its status;
 * a failure without an answer becomes a {@link RegistryError} (see {@link networkError}).
 */
export function withRetries(send: SendRequest, settings: RetrySettings): SendRequest {
  const pause = async (attempt: number, retryAfterMs?: number): Promise<void> => {
    settings.onRetry?.();
    await sleep(backoffDelayMs(attempt, settings.backoff, retryAfterMs));
  };
  return async (request: TransportRequest): Promise<TransportResponse> => {
    const { maxRetries } = settings;
    for (let attempt = 0; ; attempt += 1) {
      let response: TransportResponse;
      try {
        response = await send(request);
      } catch (error) {
        const code = errorCode(error);
        const retriesAllowed =
          code === 'ECONNREFUSED' ? Math.min(maxRetries, MAX_REFUSED_RETRIES) : maxRetries;
        if (
          attempt < retriesAllowed &&
          request.idempotent &&
          !(error instanceof ResponseTooLargeError) &&
          isTemporaryFailure({ method: request.method, code })
        ) {
          await pause(attempt);
          continue;
        }
        throw networkError(request, error, code);
      }
      const retryable = request.idempotent
        ? isTemporaryFailure({ method: request.method, statusCode: response.status })
        : NOT_PROCESSED_STATUSES.has(response.status);
      if (!retryable || attempt >= maxRetries) return response;
      await pause(attempt, parseRetryAfter(response.headers['retry-after']));
    }
  };
}
