import { MAX_RETRY_AFTER_MS, backoffDelayMs, parseRetryAfter } from '../../../lambda/registry/backoff';

describe('Function: parseRetryAfter', () => {
  const now = Date.UTC(2026, 10, 28, 12, 0, 0);

  it('reads delta-seconds', () => {
    // Act & Assess
    expect(parseRetryAfter('2', now)).toBe(2_000);
    expect(parseRetryAfter(['0'], now)).toBe(0);
  });

  it('reads an HTTP date relative to now, a past date as 0', () => {
    // Act & Assess
    expect(parseRetryAfter('Sat, 28 Nov 2026 12:00:03 GMT', now)).toBe(3_000);
    expect(parseRetryAfter('Sat, 28 Nov 2026 11:00:00 GMT', now)).toBe(0);
  });

  it('caps long waits and ignores garbage', () => {
    // Act & Assess
    expect(parseRetryAfter('3600', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-1', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('Function: backoffDelayMs', () => {
  const settings = { minDelayMs: 100, maxDelayMs: 1_000 };

  it('draws uniformly below an exponentially growing, capped ceiling (full jitter)', () => {
    // Act & Assess: random() close to 1 shows the ceiling, 0 the floor
    const top = () => 0.999999;
    expect(backoffDelayMs(0, settings, undefined, top)).toBe(99);
    expect(backoffDelayMs(2, settings, undefined, top)).toBe(399);
    expect(backoffDelayMs(10, settings, undefined, top)).toBe(999);
    expect(backoffDelayMs(3, settings, undefined, () => 0)).toBe(0);
  });

  it('never waits less than Retry-After', () => {
    // Act & Assess
    expect(backoffDelayMs(0, settings, 2_500, () => 0.5)).toBe(2_500);
  });
});
