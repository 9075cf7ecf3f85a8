import { ForeignHostError } from '../../../lambda/registry/errors';
import { nextLink } from '../../../lambda/registry/link';

describe('Function: nextLink', () => {
  const requestUrl = 'http://127.0.0.1:5000/v2/_catalog?n=2';

  it('resolves a relative next link against the request URL', () => {
    // Act
    const next = nextLink('</v2/_catalog?last=b&n=2>; rel="next"', requestUrl);

    // Assess
    expect(next).toBe('http://127.0.0.1:5000/v2/_catalog?last=b&n=2');
  });

  it('finds next among several links, with unquoted or multi-valued rel', () => {
    // Act & Assess
    expect(nextLink('</v2/_catalog?last=a>; rel="prev", <?last=c&n=2>; rel=next', requestUrl)).toBe(
      'http://127.0.0.1:5000/v2/_catalog?last=c&n=2',
    );
    expect(nextLink(['<http://127.0.0.1:5000/x?a=1,2>; rel="last next"'], requestUrl)).toBe(
      'http://127.0.0.1:5000/x?a=1,2',
    );
  });

  it('says there is no next page when no link is next', () => {
    // Act & Assess
    expect(nextLink(undefined, requestUrl)).toBeUndefined();
    expect(nextLink('</v2/_catalog?last=a>; rel="prev"', requestUrl)).toBeUndefined();
    expect(nextLink('garbage', requestUrl)).toBeUndefined();
  });

  it('refuses a next link to another host, port or scheme', () => {
    // Act & Assess
    for (const target of [
      'http://evil.example/v2/_catalog',
      'http://127.0.0.1:5001/v2/_catalog',
      'https://127.0.0.1:5000/v2/',
    ]) {
      expect(() => nextLink(`<${target}>; rel="next"`, requestUrl)).toThrow(ForeignHostError);
    }
    expect(() => nextLink('<//evil.example/v2/_catalog>; rel="next"', requestUrl)).toThrow(
      /evil\.example.*refusing/,
    );
  });
});
