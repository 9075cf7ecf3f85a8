import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
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
 * Reads the regsweep secret from Secrets Manager and caches it in memory for `ttlMs`, so a warm
 * function does not call Secrets Manager on every invocation; `refresh()` forces a new read (after
 * the registry rejects the cached credentials: the secret may have been rotated).
 */
export class SecretStore {
  private cached?: { value: RegsweepSecret; expiresAt: number };
  private pending?: Promise<RegsweepSecret>;

  public constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretArn: string,
    private readonly ttlMs: number = SECRET_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  public async get(): Promise<RegsweepSecret> {
    if (this.cached && this.cached.expiresAt > this.now()) return this.cached.value;
    return this.refresh();
  }

  public refresh(): Promise<RegsweepSecret> {
    // Concurrent callers share one request.
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetch(): Promise<RegsweepSecret> {
    let text: string | undefined;
    try {
      const output = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretArn }));
      text = output.SecretString;
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      throw new SecretError(`cannot read the secret ${this.secretArn}: ${name}`, { cause: error });
    }
    const value = parseSecret(text);
    this.cached = { value, expiresAt: this.now() + this.ttlMs };
    return value;
  }
}
