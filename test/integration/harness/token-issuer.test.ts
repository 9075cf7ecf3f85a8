import { deleteManifestRaw, headDigestRaw, pushImage } from '../../../tools/pusher';
import { rawRequest } from '../../../tools/raw-http';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';
import { startTokenIssuer, type TokenIssuer } from '../../helpers/token-issuer';

const USER = { username: 'robot', password: 'p4ss word' };
const REPOSITORY = 'team/app';

describe('Function: startTokenIssuer', () => {
  let issuer: TokenIssuer;
  let registry: RegistryProcess;

  /** Asks the issuer for a token the way a registry client does, from the challenge's realm. */
  const fetchToken = async (
    scopes: string[],
    auth?: { username: string; password: string },
  ): Promise<{ status: number; body: Record<string, unknown> }> => {
    const url = new URL(issuer.realm);
    url.searchParams.set('service', issuer.service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const response = await rawRequest(url, { ...(auth && { auth }) });
    return { status: response.status, body: JSON.parse(response.body.toString()) };
  };
  const bearer = async (scopes: string[]): Promise<{ bearer: string }> => {
    const { body } = await fetchToken(scopes, USER);
    return { bearer: body.token as string };
  };

  beforeAll(async () => {
    issuer = await startTokenIssuer({
      users: { [USER.username]: USER.password },
      // This user may never delete in 'locked/*' repositories.
      grants: (_username, name, requested) =>
        name.startsWith('locked/') ? requested.filter((action) => action !== 'delete') : requested,
    });
    registry = await startRegistry({ token: issuer });
  });

  afterEach(() => {
    issuer.configure({ expiresInSeconds: 300, omitExpiresIn: false, tokenLifetimeSeconds: undefined });
  });

  afterAll(async () => {
    await registry.stop();
    await issuer.stop();
  });

  it('makes the registry challenge an anonymous GET /v2/ with Bearer and the issuer realm', async () => {
    // Act
    const response = await rawRequest(`${registry.url}/v2/`);

    // Assess
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe(
      `Bearer realm="${issuer.realm}",service="${issuer.service}"`,
    );
  });

  it('issues a token that lets a client push and read a tag', async () => {
    // Prepare
    const requestsBefore = issuer.requests;
    const auth = await bearer([`repository:${REPOSITORY}:pull,push`]);

    // Act
    const pushed = await pushImage(registry.url, REPOSITORY, 'v1', { auth });
    const digest = await headDigestRaw(registry.url, REPOSITORY, 'v1', auth);

    // Assess
    expect(digest).toBe(pushed.digest);
    expect(issuer.requests).toBe(requestsBefore + 1);
    expect(issuer.lastScopes).toEqual([`repository:${REPOSITORY}:pull,push`]);
  });

  it('answers with token, access_token, expires_in and issued_at', async () => {
    // Act
    const { status, body } = await fetchToken([`repository:${REPOSITORY}:pull`], USER);

    // Assess
    expect(status).toBe(200);
    expect(body.access_token).toBe(body.token);
    expect(body.expires_in).toBe(300);
    expect(new Date(body.issued_at as string).getTime()).toBeGreaterThan(Date.now() - 10_000);
  });

  it('leaves expires_in out when asked to', async () => {
    // Prepare
    issuer.configure({ omitExpiresIn: true });

    // Act
    const { body } = await fetchToken([`repository:${REPOSITORY}:pull`], USER);

    // Assess
    expect(body).not.toHaveProperty('expires_in');
    expect(typeof body.token).toBe('string');
  });

  it('answers 401 to bad credentials', async () => {
    // Act
    const { status } = await fetchToken([`repository:${REPOSITORY}:pull`], { ...USER, password: 'wrong' });

    // Assess
    expect(status).toBe(401);
  });

  it('gives an anonymous caller a token that grants nothing', async () => {
    // Prepare
    const { status, body } = await fetchToken([`repository:${REPOSITORY}:pull`]);

    // Act
    const response = await rawRequest(`${registry.url}/v2/${REPOSITORY}/tags/list`, {
      auth: { bearer: body.token as string },
    });

    // Assess
    expect(status).toBe(200);
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toContain('error="insufficient_scope"');
  });

  it('withholds the actions that grants() refuses', async () => {
    // Prepare
    const pushed = await pushImage(registry.url, 'locked/app', 'v1', {
      auth: await bearer(['repository:locked/app:pull,push']),
    });
    const auth = await bearer(['repository:locked/app:pull,delete']);

    // Act
    const status = await deleteManifestRaw(registry.url, 'locked/app', pushed.digest, auth);

    // Assess
    expect(status).toBe(401);
    expect(await headDigestRaw(registry.url, 'locked/app', 'v1', auth)).toBe(pushed.digest);
  });

  it('grants delete where grants() allows it', async () => {
    // Prepare
    const pushed = await pushImage(registry.url, 'open/app', 'v1', {
      auth: await bearer(['repository:open/app:pull,push']),
    });
    const auth = await bearer(['repository:open/app:pull,delete']);

    // Act
    const status = await deleteManifestRaw(registry.url, 'open/app', pushed.digest, auth);

    // Assess
    expect(status).toBe(202);
    expect(await headDigestRaw(registry.url, 'open/app', 'v1', auth)).toBeUndefined();
  });

  it('issues tokens the registry rejects when their lifetime is negative', async () => {
    // Prepare
    issuer.configure({ tokenLifetimeSeconds: -120 });
    const auth = await bearer([`repository:${REPOSITORY}:pull`]);

    // Act
    const response = await rawRequest(`${registry.url}/v2/${REPOSITORY}/tags/list`, { auth });

    // Assess
    expect(response.status).toBe(401);
  });
});
