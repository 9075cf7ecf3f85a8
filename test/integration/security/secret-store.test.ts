import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

import { SecretError, SecretStore } from '../../../lambda/aws/secrets';
import { startAwsFake, type AwsFake } from '../../helpers/aws-fake';
import { TEST_SECRET_ARN } from '../../helpers/lambda';

const GET = 'secretsmanager.GetSecretValue';
const FIRST = { username: 'regsweep', password: 'first-password' };
const ROTATED = { username: 'regsweep', password: 'rotated-password' };

describe('Class: SecretStore', () => {
  let fake: AwsFake;
  let client: SecretsManagerClient;

  beforeEach(async () => {
    fake = await startAwsFake({ secrets: { [TEST_SECRET_ARN]: JSON.stringify(FIRST) } });
    client = new SecretsManagerClient({
      endpoint: fake.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDFAKEFORTESTS', secretAccessKey: 'fake-secret-for-tests' },
    });
  });

  afterEach(async () => {
    client.destroy();
    await fake.stop();
  });

  it('reads the secret once while it is fresh, and again on refresh (a rotation)', async () => {
    // Prepare
    const store = new SecretStore(client, TEST_SECRET_ARN);

    // Act
    const first = await store.get();
    const again = await store.get();
    fake.secrets[TEST_SECRET_ARN] = JSON.stringify(ROTATED);
    const cached = await store.get();
    const refreshed = await store.refresh();
    const afterRefresh = await store.get();

    // Assess
    expect([first, again, cached].map((secret) => secret.credentials)).toEqual([FIRST, FIRST, FIRST]);
    expect([refreshed, afterRefresh].map((secret) => secret.credentials)).toEqual([ROTATED, ROTATED]);
    expect(fake.calls.filter((call) => call === GET)).toHaveLength(2);
  });

  it('shares one request between concurrent callers', async () => {
    // Prepare
    const store = new SecretStore(client, TEST_SECRET_ARN);

    // Act
    await Promise.all([store.get(), store.get(), store.refresh()]);

    // Assess
    expect(fake.calls.filter((call) => call === GET)).toHaveLength(1);
  });

  it('reads again on every call with a TTL of 0', async () => {
    // Prepare
    const store = new SecretStore(client, TEST_SECRET_ARN, 0);

    // Act
    await store.get();
    await store.get();

    // Assess
    expect(fake.calls.filter((call) => call === GET)).toHaveLength(2);
  });

  it('refuses a malformed secret naming the key, and reads it again next time', async () => {
    // Prepare
    fake.secrets[TEST_SECRET_ARN] = JSON.stringify({ username: 'regsweep' });
    const store = new SecretStore(client, TEST_SECRET_ARN);

    // Act
    const error = await store.get().catch((caught: unknown) => caught);
    fake.secrets[TEST_SECRET_ARN] = JSON.stringify(FIRST);
    const fixed = await store.get();

    // Assess
    expect(error).toBeInstanceOf(SecretError);
    expect((error as Error).message).toBe(
      'invalid secret: (secret): username and password must be given together',
    );
    expect(fixed.credentials).toEqual(FIRST);
  });

  it('names the secret and the AWS error when the secret cannot be read', async () => {
    // Prepare
    const store = new SecretStore(client, `${TEST_SECRET_ARN}-missing`);

    // Act
    const error = await store.get().catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(SecretError);
    expect((error as Error).message).toBe(
      `cannot read the secret ${TEST_SECRET_ARN}-missing: ResourceNotFoundException`,
    );
  });
});
