import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod/mini';
import type { Credentials } from '../registry';

/** How long a fetched secret is reused before Secrets Manager is asked again. */
export const SECRET_TTL_MS = 5 * 60_000;

/** The secret's JSON: registry credentials (Basic or token) plus the webhook's bearer token. */
export interface RegsweepSecret {
  readonly credentials?: Credentials;
  readonly webhookToken?: string;
}

/** The secret is missing, unreadable or malformed. Messages name keys, never values. */
export class SecretError extends Error {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SecretError';
  }
}

const secretString = (minimum: number, message: string) =>
  z.optional(z.string('expected a string').check(z.minLength(minimum, message)));

const SecretSchema = z
  .object({
    username: secretString(1, 'must not be empty'),
    password: secretString(1, 'must not be empty'),
    token: secretString(1, 'must not be empty'),
    webhookToken: secretString(16, 'must be at least 16 characters'),
  })
  .check(
    z.refine((value) => (value.username === undefined) === (value.password === undefined), {
      message: 'username and password must be given together',
    }),
  );

/** Parses the secret's JSON; issues name the key only (zod messages here never quote values). */
export function parseSecret(text: string | undefined): RegsweepSecret {
  let value: unknown;
  try {
    value = JSON.parse(text ?? '');
  } catch {
    // No `cause`: JSON.parse's message quotes the start of the text, which is the secret.
    throw new SecretError('the secret is not valid JSON');
  }
  const parsed = SecretSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(secret)'}: ${issue.message}`,
    );
    throw new SecretError(`invalid secret: ${issues.join('; ')}`);
  }
  const { username, password, token, webhookToken } = parsed.data;
  const credentials: Credentials | undefined =
    username && password ? { username, password } : token ? { token } : undefined;
  return { ...(credentials && { credentials }), ...(webhookToken && { webhookToken }) };
}

/**
 * Reads the regsweep secret through Powertools Parameters (`SecretsProvider`), which caches it for
 * `ttlMs` so a warm function does not call Secrets Manager on every invocation; `refresh()` forces
 * a new read (`forceFetch`, after the registry rejects the cached credentials: the secret may have
 * been rotated). Every read is checked by {@link parseSecret}.
 */
export class SecretStore {
  private readonly provider: SecretsProvider;
  private pending?: Promise<RegsweepSecret>;

  public constructor(
    client: SecretsManagerClient,
    private readonly secretArn: string,
    private readonly ttlMs: number = SECRET_TTL_MS,
  ) {
    this.provider = new SecretsProvider({ awsSdkV3Client: client });
  }

  public get(): Promise<RegsweepSecret> {
    return this.read(false);
  }

  public refresh(): Promise<RegsweepSecret> {
    return this.read(true);
  }

  private read(forceFetch: boolean): Promise<RegsweepSecret> {
    // Concurrent callers share one request (the provider's cache does not join them).
    this.pending ??= this.fetch(forceFetch).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetch(forceFetch: boolean): Promise<RegsweepSecret> {
    let value: string | Uint8Array | undefined;
    try {
      value = await this.provider.get(this.secretArn, { maxAge: this.ttlMs / 1000, forceFetch });
    } catch (error) {
      // The provider wraps the SDK's error (GetParameterError); its name is the useful one.
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      const name = cause instanceof Error ? cause.name : 'Error';
      throw new SecretError(`cannot read the secret ${this.secretArn}: ${name}`, { cause });
    }
    try {
      return parseSecret(typeof value === 'string' ? value : undefined);
    } catch (error) {
      // A malformed secret is not kept: the next call reads it again (it may have been fixed).
      this.provider.clearCache();
      throw error;
    }
  }
}
