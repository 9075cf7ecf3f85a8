import type { Scope } from './auth';
import type { AuthAttempt, Authenticator } from './authenticator';
import { ForeignHostError } from './errors';
import type { HttpMethod, TransportResponse } from './http';
import type { Transport } from './transport';
import type { RequestKind } from './types';

/** The cap on a 2xx body for calls that name none: the size of a catalog or tag-list page. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

/** One request to the configured registry, as the operation modules describe it. */
export interface RegistryCall {
  readonly method: HttpMethod;
  /** Absolute URL on the registry's origin (anything else is refused). */
  readonly url: string;
  readonly kind: RequestKind;
  /** Token scopes the request needs (Bearer registries). */
  readonly scopes: readonly Scope[];
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  /** @default DEFAULT_MAX_BODY_BYTES */
  readonly maxBodyBytes?: number;
  readonly what: string;
  /** @default true for every method but POST */
  readonly idempotent?: boolean;
}

/**
 * What the operation modules (manifests, listing, untag, image-created) need of a registry: its
 * origin, to build URLs on, and an authenticated `send` that refuses any other origin. They take
 * this and never the public {@link RegistryClient} front.
 */
export interface RegistrySession {
  /** The registry origin, e.g. `http://127.0.0.1:5000`. */
  readonly origin: string;
  send(call: RegistryCall): Promise<TransportResponse>;
}

/** A {@link RegistrySession} over a transport and an authenticator. */
export class AuthenticatedSession implements RegistrySession {
  public constructor(
    public readonly origin: string,
    private readonly transport: Transport,
    private readonly auth: Authenticator,
  ) {}

  /**
   * Sends one request to the registry with authentication: anonymous first, then whatever the
   * challenge asks for, with one fresh token / one credentials refetch after a refusal.
   */
  public async send(call: RegistryCall): Promise<TransportResponse> {
    const origin = new URL(call.url).origin;
    if (origin !== this.origin) {
      throw new ForeignHostError(`refusing to send a request for ${call.what} to ${origin}`, {
        method: call.method,
        url: call.url,
      });
    }
    const attempt: AuthAttempt = {
      scopes: [...call.scopes],
      renewedToken: false,
      refetchedCredentials: false,
      rounds: 0,
    };
    for (;;) {
      const authorization = await this.auth.authorization(attempt.scopes);
      const response = await this.transport.send({
        method: call.method,
        url: call.url,
        kind: call.kind,
        headers: { ...call.headers, ...(authorization !== undefined && { authorization }) },
        ...(call.body && { body: call.body }),
        maxBodyBytes: call.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
        what: call.what,
        idempotent: call.idempotent ?? call.method !== 'POST',
      });
      if (response.status !== 401) return response;
      await this.auth.unauthorized(response, call.method, authorization, attempt);
    }
  }
}
