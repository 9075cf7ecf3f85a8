import { readEnvironment } from '../../../lambda/aws/environment';
import { InvalidRegistryUrlError, registryOrigin } from '../../../lambda/domain';
import { compilePolicy } from '../../../lambda/policy';
import { RegistryClient } from '../../../lambda/registry';

describe('Function: registryOrigin', () => {
  it('accepts http(s)://host[:port] with or without a trailing slash', () => {
    // Act & Assess
    expect(registryOrigin('http://127.0.0.1:5000')).toBe('http://127.0.0.1:5000');
    expect(registryOrigin('https://registry.example/')).toBe('https://registry.example');
  });

  it.each([
    ['ftp://127.0.0.1', /scheme/],
    ['127.0.0.1:5000', /scheme|absolute/],
    ['http://127.0.0.1:5000/v2', /path/],
    ['http://127.0.0.1:5000/?x=1', /query/],
    ['http://127.0.0.1:5000/#x', /fragment/],
    ['not a url', /absolute/],
  ])('refuses %s', (value, reason) => {
    // Act & Assess
    expect(() => registryOrigin(value)).toThrow(InvalidRegistryUrlError);
    expect(() => registryOrigin(value)).toThrow(reason);
  });

  it('refuses credentials in the URL without repeating them', () => {
    // Act
    let message = '';
    try {
      registryOrigin('http://admin:hunter2@127.0.0.1:5000');
    } catch (error) {
      message = (error as Error).message;
    }

    // Assess
    expect(message).toMatch(/credentials/);
    expect(message).not.toContain('hunter2');
  });
});

describe('Rule: one registry URL rule for the policy, the Lambda environment and the client', () => {
  const accepted = (act: () => unknown): boolean => {
    try {
      act();
      return true;
    } catch {
      return false;
    }
  };
  const environment = (registry: string) => ({
    REGSWEEP_REGISTRY: registry,
    REGSWEEP_POLICY: JSON.stringify({ rules: [{ keep: 1 }] }),
    REGSWEEP_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:regsweep',
  });

  it.each([
    ['http://127.0.0.1:5000', true],
    ['https://registry.example/', true],
    ['http://127.0.0.1:5000/v2', false],
    ['https://registry.example/mirror/', false],
    ['http://127.0.0.1:5000/?x=1', false],
    ['http://admin:secret@127.0.0.1:5000', false],
    ['ftp://127.0.0.1', false],
    ['127.0.0.1:5000', false],
  ])('%s: accepted by all three is %s', (registry, expected) => {
    // Act
    const byPolicy = accepted(() => compilePolicy({ registry, rules: [{ keep: 1 }] }));
    const byEnvironment = accepted(() => readEnvironment(environment(registry), { requireQueue: false }));
    const byClient = accepted(() => new RegistryClient({ registry, dispatcher: {} as never }));

    // Assess
    expect({ byPolicy, byEnvironment, byClient }).toEqual({
      byPolicy: expected,
      byEnvironment: expected,
      byClient: expected,
    });
  });

  it('names the path in the policy error (validate fails where sweep would)', () => {
    // Act & Assess
    expect(() => compilePolicy({ registry: 'http://127.0.0.1:5000/v2', rules: [{ keep: 1 }] })).toThrow(
      'registry: it has a path (/v2)',
    );
  });

  it('gives the Lambda environment the origin, without the trailing slash', () => {
    // Act
    const { registry } = readEnvironment(environment('https://registry.example/'), { requireQueue: false });

    // Assess
    expect(registry).toBe('https://registry.example');
  });
});
