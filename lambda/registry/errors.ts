/**
 * The registry client's error hierarchy. Every error carries what a user needs to act on it
 * (method, redacted URL, HTTP status, the spec error code and the registry's own diagnostics)
 * and never a credential: URLs are redacted before they are stored, headers are never stored.
 */

/** Thrown for a registry base URL that is not `http(s)://host[:port]`; the rule lives in the domain. */
export { InvalidRegistryUrlError } from '../domain/registry-url';

/** One entry of the registry's JSON error body `{"errors":[{"code","message","detail"}]}`. */
export interface RegistryDiagnostic {
  readonly code: string;
  readonly message?: string;
  readonly detail?: unknown;
}

/** What every registry error may say about the request that failed. */
export interface RegistryErrorOptions {
  readonly method: string;
  /** The request URL; redacted by the constructor, so passing a raw URL is safe. */
  readonly url: string;
  readonly statusCode?: number;
  /** The spec error code (MANIFEST_UNKNOWN, DENIED, ...) or a Node/undici error code (ECONNRESET, ...). */
  readonly code?: string;
  readonly diagnostics?: readonly RegistryDiagnostic[];
  readonly cause?: unknown;
}

/** HTTP statuses worth retrying for any method: the server says it did not (or could not) do the work. */
const TEMPORARY_STATUSES: ReadonlySet<number> = new Set([408, 429, 502, 503, 504]);
/** 500 is retried only for reads: a write that answered 500 may have happened. */
const TEMPORARY_STATUSES_FOR_READS: ReadonlySet<number> = new Set([500]);
const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);
/** Spec error codes that mean "later", whatever the status. */
const TEMPORARY_SPEC_CODES: ReadonlySet<string> = new Set(['TOOMANYREQUESTS', 'UNAVAILABLE']);
/** Network failures worth retrying: the connection broke, not the request. */
const TEMPORARY_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_ABORTED',
]);

/**
 * Whether a failure is worth retrying: by status (429, 502/503/504, 408; 500 only for GET/HEAD),
 * by spec code (TOOMANYREQUESTS) or by network error code (ECONNRESET, UND_ERR_SOCKET, ...).
 */
export function isTemporaryFailure(failure: { method: string; statusCode?: number; code?: string }): boolean {
  const { method, statusCode, code } = failure;
  if (statusCode !== undefined) {
    if (TEMPORARY_STATUSES.has(statusCode)) return true;
    if (TEMPORARY_STATUSES_FOR_READS.has(statusCode) && READ_METHODS.has(method.toUpperCase())) return true;
  }
  if (code !== undefined) {
    if (TEMPORARY_SPEC_CODES.has(code)) return true;
    if (statusCode === undefined && TEMPORARY_NETWORK_CODES.has(code)) return true;
  }
  return false;
}

/** Query parameters that are safe to show; every other value (upload `_state`, signatures, tokens) is redacted. */
const PUBLIC_QUERY_PARAMETERS: ReadonlySet<string> = new Set(['n', 'last', 'service', 'scope', 'digest']);

/**
 * A URL fit for an error message or a log line: user info dropped, and every query value other
 * than paging and token-scope parameters replaced by `REDACTED` (upload locations and storage
 * redirects carry signed state). Unparsable input is replaced wholesale.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '<unparsable URL>';
  }
  parsed.username = '';
  parsed.password = '';
  for (const key of [...parsed.searchParams.keys()]) {
    if (!PUBLIC_QUERY_PARAMETERS.has(key)) parsed.searchParams.set(key, 'REDACTED');
  }
  parsed.hash = '';
  return parsed.toString();
}

/**
 * Parses the registry's JSON error body. Returns an empty list for anything else (HTML from a
 * proxy, empty bodies): the status code alone then has to speak.
 */
export function parseErrorBody(body: Buffer | string | undefined): RegistryDiagnostic[] {
  if (body === undefined || body.length === 0) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString());
  } catch {
    return [];
  }
  const errors = (parsed as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return [];
  const diagnostics: RegistryDiagnostic[] = [];
  for (const entry of errors) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { code, message, detail } = entry as Record<string, unknown>;
    if (typeof code !== 'string') continue;
    diagnostics.push({
      code,
      ...(typeof message === 'string' && { message }),
      ...(detail !== undefined && { detail }),
    });
  }
  return diagnostics;
}

/** The parts of a registry answer an error is made from. */
export interface RegistryAnswer {
  readonly status: number;
  readonly url: string;
  readonly body: Buffer;
}

/** A {@link RegistryError} describing an unexpected answer, with the registry's own diagnostics. */
export function responseError(response: RegistryAnswer, method: string, what: string): RegistryError {
  const diagnostics = parseErrorBody(response.body);
  const first = diagnostics[0];
  const detail = first ? ` ${first.code}${first.message ? `: ${first.message}` : ''}` : '';
  return new RegistryError(`${what}: the registry answered HTTP ${response.status}${detail}`, {
    method,
    url: response.url,
    statusCode: response.status,
    ...(first && { code: first.code }),
    diagnostics,
  });
}

/** The {@link DeletionDisabledError} for a refused delete at `registry` (see {@link isDeletionDisabled}). */
export function deletionDisabled(registry: string, error: RegistryError): DeletionDisabledError {
  return new DeletionDisabledError(registry, {
    method: error.method,
    url: error.url,
    ...(error.statusCode !== undefined && { statusCode: error.statusCode }),
    ...(error.code !== undefined && { code: error.code }),
    ...(error.diagnostics && { diagnostics: error.diagnostics }),
  });
}

/** True for the answers that mean "this registry does not delete": 405, or the UNSUPPORTED code. */
export function isDeletionDisabled(error: { statusCode?: number; code?: string }): boolean {
  return error.statusCode === 405 || error.code === 'UNSUPPORTED';
}

/** Base of every error the registry client throws. */
export class RegistryError extends Error {
  public readonly method: string;
  /** The request URL without credentials or signed query values. */
  public readonly url: string;
  public readonly statusCode?: number;
  public readonly code?: string;
  public readonly diagnostics?: readonly RegistryDiagnostic[];

  public constructor(message: string, options: RegistryErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RegistryError';
    this.method = options.method;
    this.url = redactUrl(options.url);
    if (options.statusCode !== undefined) this.statusCode = options.statusCode;
    if (options.code !== undefined) this.code = options.code;
    if (options.diagnostics !== undefined && options.diagnostics.length > 0) {
      this.diagnostics = options.diagnostics;
    }
  }

  /** True when trying again later may succeed (see {@link isTemporaryFailure}). */
  public isTemporary(): boolean {
    return isTemporaryFailure(this);
  }
}

/**
 * Why authentication failed: the credentials were refused (or are missing), or they were
 * accepted but the account lacks a right the request needs (`insufficient-scope`).
 */
export type AuthenticationFailure =
  'credentials-refused' | 'credentials-missing' | 'insufficient-scope' | 'unusable-challenge';

/** The registry or its token service refused the credentials, or required some and none were configured. */
export class AuthenticationError extends RegistryError {
  public readonly failure: AuthenticationFailure;

  public constructor(message: string, options: RegistryErrorOptions & { failure: AuthenticationFailure }) {
    super(message, options);
    this.name = 'AuthenticationError';
    this.failure = options.failure;
  }
}

/** The registry refuses deletes (405 / UNSUPPORTED): `storage.delete.enabled` is off. */
export class DeletionDisabledError extends RegistryError {
  public constructor(registry: string, options: RegistryErrorOptions) {
    const answer = [options.statusCode && `HTTP ${options.statusCode}`, options.code]
      .filter(Boolean)
      .join(' ');
    super(
      `the registry at ${registry} refuses to delete manifests${answer ? ` (${answer})` : ''}: ` +
        'deletion is off in its configuration; set `storage.delete.enabled: true` ' +
        '(or REGISTRY_STORAGE_DELETE_ENABLED=true) and restart it',
      options,
    );
    this.name = 'DeletionDisabledError';
  }
}

/** The digest the registry announced does not match the bytes it sent (or the digest asked for). */
export class DigestMismatchError extends RegistryError {
  public readonly expected: string;
  public readonly actual: string;

  public constructor(what: string, expected: string, actual: string, options: RegistryErrorOptions) {
    super(`${what}: the registry says ${expected} but the content hashes to ${actual}`, options);
    this.name = 'DigestMismatchError';
    this.expected = expected;
    this.actual = actual;
  }
}

/** A response body was larger than the cap for its kind; it was abandoned, not buffered. */
export class ResponseTooLargeError extends RegistryError {
  public readonly limitBytes: number;

  public constructor(what: string, limitBytes: number, options: RegistryErrorOptions) {
    super(`${what} is larger than the ${limitBytes}-byte limit; refusing to read it`, options);
    this.name = 'ResponseTooLargeError';
    this.limitBytes = limitBytes;
  }
}

/** A Link, upload location or realm pointed somewhere regsweep must not send the request. */
export class ForeignHostError extends RegistryError {
  public constructor(message: string, options: RegistryErrorOptions) {
    super(message, options);
    this.name = 'ForeignHostError';
  }
}

/** The registry could not be reached at all (refused, unknown host) after the retries. */
export class RegistryUnreachableError extends RegistryError {
  public constructor(registry: string, reason: string, options: RegistryErrorOptions) {
    super(`cannot reach the registry at ${registry}: ${reason}`, options);
    this.name = 'RegistryUnreachableError';
  }
}

/**
 * The account may not untag: the registry refused (401 with a fresh token, 403) one of the steps,
 * which need delete rights and, where tags cannot be deleted alone, push rights too.
 */
export class UntagNotPermittedError extends RegistryError {
  public constructor(repository: string, tag: string, step: string, options: RegistryErrorOptions) {
    super(
      `cannot untag ${repository}:${tag}: the registry refused ${step} (HTTP ${options.statusCode ?? '?'}${options.code ? ` ${options.code}` : ''}); ` +
        'untagging needs delete rights and, on registries that cannot delete a tag alone, push rights ' +
        'to re-point the tag at a throw-away manifest',
      options,
    );
    this.name = 'UntagNotPermittedError';
  }
}

/** The registry answered 404: the manifest, blob or repository is gone (or never was). */
export function isNotFound(error: unknown): boolean {
  return error instanceof RegistryError && error.statusCode === 404;
}
