import {
  DEADLINE_MARGIN_MS,
  deadlineMarginMs,
  MAX_DEADLINE_MARGIN_SHARE,
  stopBeforeDeadline,
} from '../../../lambda/aws/deadline';
import { PUSH_RECHECK_DELAYS_S, pushRecheckDelaySeconds } from '../../../lambda/aws/queue';

describe('Function: deadlineMarginMs', () => {
  it('is DEADLINE_MARGIN_MS for an invocation with minutes left', () => {
    // Act & Assess
    expect(deadlineMarginMs(5 * 60_000)).toBe(DEADLINE_MARGIN_MS);
  });

  it('is a share of the time when that is shorter, so a short worker still removes something', () => {
    // Act & Assess
    expect(deadlineMarginMs(60_000)).toBe(60_000 * MAX_DEADLINE_MARGIN_SHARE);
    expect(deadlineMarginMs(1_000)).toBe(250);
    expect(deadlineMarginMs(0)).toBe(0);
    expect(deadlineMarginMs(-5)).toBe(0);
  });
});

describe('Function: stopBeforeDeadline', () => {
  it('gives a reason, naming the time left and the margin, only under the margin', () => {
    // Prepare
    let remaining = 50_000;
    const stop = stopBeforeDeadline(() => remaining, 40_000);

    // Act
    const before = stop();
    remaining = 39_999.6;
    const after = stop();

    // Assess
    expect(before).toBeUndefined();
    expect(after).toBe('39999 ms left before the Lambda deadline, under the 40000 ms margin');
  });
});

describe('Function: pushRecheckDelaySeconds', () => {
  it('grows with the receive count and stays at the last value', () => {
    // Act & Assess
    expect([1, 2, 3, 4, 5, 9].map(pushRecheckDelaySeconds)).toEqual([5, 15, 30, 60, 120, 120]);
    expect(pushRecheckDelaySeconds(0)).toBe(PUSH_RECHECK_DELAYS_S[0]);
    expect(pushRecheckDelaySeconds(Number.NaN)).toBe(PUSH_RECHECK_DELAYS_S[0]);
  });
});
