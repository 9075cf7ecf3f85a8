import type { LambdaFunctionURLEvent } from 'aws-lambda';

import { acceptWebhook, bearerTokenMatches } from '../../../lambda/events';
import type { WebhookResult } from '../../../lambda/handlers/webhook';
import { loadEventFixture } from '../../fixtures/events';
import { startAwsFake, type AwsFake } from '../../helpers/aws-fake';
import { coldStart, lambdaEnv, TEST_SECRET_ARN } from '../../helpers/lambda';
import { recordMeasurement } from '../../helpers/run-report';

type Check = (header: string, expected: string) => boolean;

/**
 * How much longer `check` takes on `near` (right but for its last character) than on `far` (wrong
 * from the first character), same length: the median over many batches of the ratio of two
 * batches timed back to back, in alternating order, so that a pause or a slower spell of the
 * machine (jest runs other suites beside this one) hits both sides of a pair alike.
 */
function nearOverFar(check: Check, expected: string): number {
  const near = `Bearer ${expected.slice(0, -1)}${expected.endsWith('a') ? 'b' : 'a'}`;
  const far = `Bearer ${expected.startsWith('a') ? 'b' : 'a'}${expected.slice(1)}`;
  const timeOf = (header: string): number => {
    const started = process.hrtime.bigint();
    for (let call = 0; call < 40; call += 1)
      if (check(header, expected)) throw new Error('a wrong token matched');
    return Number(process.hrtime.bigint() - started);
  };
  timeOf(near);
  timeOf(far);
  const ratios: number[] = [];
  for (let batch = 0; batch < 61; batch += 1) {
    if (batch % 2 === 0) {
      const nearTime = timeOf(near);
      ratios.push(nearTime / timeOf(far));
    } else {
      const farTime = timeOf(far);
      ratios.push(timeOf(near) / farTime);
    }
  }
  return ratios.sort((a, b) => a - b)[ratios.length >> 1] ?? 0;
}

/**
 * `nearOverFar` taken up to `attempts` times until it falls within `[low, high]`: one disturbed
 * measurement on a busy machine gets another chance, while a comparison that leaks lands outside
 * every time (the naive one measures 18 to 46 here, against 0.95 to 1.02 for ours).
 */
function settledRatio(check: Check, expected: string, [low, high]: [number, number], attempts = 3): number[] {
  const seen: number[] = [];
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const ratio = nearOverFar(check, expected);
    seen.push(ratio);
    if (ratio > low && ratio < high) break;
  }
  return seen;
}

/** The comparison a naive gate would do: stops at the first differing character. */
function naiveCheck(expected: string): Check {
  const wanted = `Bearer ${expected}`;
  return (header) => header === wanted;
}

describe('Function: bearerTokenMatches', () => {
  // A long token makes a content-dependent comparison measurable in JavaScript.
  const expected = Array.from({ length: 16 * 1024 }, (_, index) => 'abcdefghijklmnop'[index % 16]).join('');

  it('takes as long for a near miss as for a far miss, where a naive comparison does not', () => {
    // The measurement must see a naive comparison leak, or its silence about ours means nothing.
    const naiveRatio = nearOverFar(naiveCheck(expected), expected);
    const ratios = settledRatio(bearerTokenMatches, expected, [0.8, 1.25]);
    const ratio = ratios[ratios.length - 1];
    recordMeasurement('token-timing', { naiveRatio, ratios });

    expect(naiveRatio).toBeGreaterThan(3);
    expect(ratio).toBeGreaterThan(0.8);
    expect(ratio).toBeLessThan(1.25);
  });
});

describe('Handler: webhook refusals give no hint', () => {
  const token = 'hint-test-webhook-token-3e8f1a2b';
  let fake: AwsFake;
  let handler: (event: LambdaFunctionURLEvent) => Promise<WebhookResult>;
  let restore: () => void;

  beforeAll(async () => {
    fake = await startAwsFake({ secrets: { [TEST_SECRET_ARN]: JSON.stringify({ webhookToken: token }) } });
    ({ handler, restore } = coldStart<typeof handler>(
      'webhook',
      lambdaEnv(fake, 'http://127.0.0.1:9', { rules: [{ name: 'all', keep: 1 }] }),
    ));
  });

  afterAll(async () => {
    restore?.();
    await fake?.stop();
  });

  const guesses: Array<[string, string | undefined]> = [
    ['all but the last character', `Bearer ${token.slice(0, -1)}x`],
    ['one character short', `Bearer ${token.slice(0, -1)}`],
    ['one character long', `Bearer ${token}x`],
    ['wrong from the start', `Bearer x${token.slice(1)}`],
    ['the token in another case', `Bearer ${token.toUpperCase()}`],
    ['the token as Basic', `Basic ${token}`],
    ['no token', 'Bearer'],
    ['no header', undefined],
  ];

  it('answers every wrong guess exactly alike, before reading the body', async () => {
    const base = loadEventFixture<LambdaFunctionURLEvent>('function-url-harbor-json');
    const answers = new Set<string>();
    for (const [name, authorization] of guesses) {
      // The body is broken: a gate that read it first would answer 400, not 401.
      const event = { ...base, body: '{"events": [', headers: { ...(authorization && { authorization }) } };
      const result = await handler(event);
      expect([name, result.statusCode]).toEqual([name, 401]);
      answers.add(JSON.stringify(result));
      const decision = acceptWebhook({ headers: event.headers, body: event.body }, { webhookToken: token });
      answers.add(JSON.stringify({ statusCode: decision.statusCode, message: decision.message }));
    }
    // One answer from the handler and one from the gate it wraps: nothing depends on the guess.
    expect(answers.size).toBe(2);
    expect(fake.messages).toHaveLength(0);
  });
});
