import { bearerTokenMatches } from '../../../lambda/events';

const TOKEN = 'regsweep-fixture-webhook-token';

describe('Function: bearerTokenMatches', () => {
  it.each([
    `Bearer ${TOKEN}`,
    `bearer ${TOKEN}`,
    `BEARER   ${TOKEN}`,
    `  Bearer ${TOKEN}  `,
    `Bearer\t${TOKEN}`,
  ])('accepts %j', (header) => {
    // Act & Assess
    expect(bearerTokenMatches(header, TOKEN)).toBe(true);
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['another token', 'Bearer another-token'],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, -1)}`],
    ['the token with more after it', `Bearer ${TOKEN}x`],
    ['the token without the scheme', TOKEN],
    ['Basic credentials', `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}`],
    ['two tokens', `Bearer ${TOKEN} ${TOKEN}`],
    ['the scheme alone', 'Bearer'],
  ])('refuses %s', (_case, header) => {
    // Act & Assess
    expect(bearerTokenMatches(header, TOKEN)).toBe(false);
  });

  it('never matches when no token is configured', () => {
    // Act & Assess
    expect(bearerTokenMatches('Bearer ', '')).toBe(false);
    expect(bearerTokenMatches('Bearer x', '')).toBe(false);
  });

  it('compares tokens that differ in length without throwing', () => {
    // Act & Assess
    expect(bearerTokenMatches(`Bearer ${'x'.repeat(10_000)}`, TOKEN)).toBe(false);
    expect(bearerTokenMatches('Bearer a', 'a'.repeat(10_000))).toBe(false);
  });
});
