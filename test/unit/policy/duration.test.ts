import { DurationError, formatAge, parseDuration, PolicyError } from '../../../lambda/policy';

describe('Function: parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['15m', 900_000],
    ['12h', 43_200_000],
    ['14d', 1_209_600_000],
    ['2w', 1_209_600_000],
    ['0s', 0],
  ])('parses %s as %d ms', (text, milliseconds) => {
    // Act & Assess
    expect(parseDuration(text)).toBe(milliseconds);
  });

  it.each(['14', '14x', 'd', '1.5d', '1d12h', ' 14d', '14D', '-1d', '', '99999999999999999w'])(
    'rejects %j',
    (text) => {
      // Act & Assess
      expect(() => parseDuration(text)).toThrow(DurationError);
      expect(() => parseDuration(text)).toThrow(PolicyError);
    },
  );

  it('names the bad text and the accepted units', () => {
    // Act & Assess
    expect(() => parseDuration('14x')).toThrow("'14x' is not a duration (use e.g. 30s, 15m, 12h, 14d, 2w)");
  });
});

describe('Function: formatAge', () => {
  it.each([
    [20 * 86_400_000 + 5 * 3_600_000, '20d'],
    [3 * 3_600_000 + 59 * 60_000, '3h'],
    [90_000, '1m'],
    [999, '0s'],
    [-2 * 3_600_000, '2h in the future'],
  ])('formats %d ms as %s', (milliseconds, text) => {
    // Act & Assess
    expect(formatAge(milliseconds)).toBe(text);
  });
});
