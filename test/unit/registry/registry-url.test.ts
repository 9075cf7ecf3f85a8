import { InvalidRegistryUrlError } from '../../../lambda/registry/errors';
import { registryOrigin } from '../../../lambda/registry/registry-url';

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
