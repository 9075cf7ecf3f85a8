import {
  LedgerInputError,
  PENDING_PLAN_RETENTION_MS,
  type LedgerPendingPlan,
  type PendingPlan,
} from '../../../lambda/ledger';
import type { ContractContext } from './contract';
import { DAY_MS, MINUTE_MS, pendingPlan, pseudoRandomBytes, START } from './fixtures';

/** More than three DynamoDB items hold: the DynamoDB store splits such a body over four. */
const LARGE_BODY_BYTES = 1_200_000;

/** Fails unless `actual` is `expected` kept whole: the same fields, and the body byte for byte. */
function expectPlan(actual: LedgerPendingPlan | undefined, expected: LedgerPendingPlan): void {
  expect(actual).toBeDefined();
  const { body, ...fields } = actual as LedgerPendingPlan;
  const { body: expectedBody, ...expectedFields } = expected;
  expect(fields).toEqual(expectedFields);
  expect(body).toBeInstanceOf(Uint8Array);
  expect(body.byteLength).toBe(expectedBody.byteLength);
  // Compared as buffers: a failing toEqual on a megabyte array would print every byte.
  expect(Buffer.from(body).equals(Buffer.from(expectedBody))).toBe(true);
}

/** The contract's third part: the pending plans a stopped worker leaves for its continuation. */
export function describePendingContract(t: ContractContext): void {
  describe('Method: savePendingPlan / getPendingPlan', () => {
    it('keeps a 1.2 MB body byte for byte, with its expiry 24 h later rounded up to the second', async () => {
      // Prepare: saved 250 ms into a second
      const plan = pendingPlan({
        body: pseudoRandomBytes(LARGE_BODY_BYTES, 7),
        savedAt: new Date(Date.parse(START) + 250),
      });
      const expiresAt = new Date('2026-11-29T10:00:01.000Z');

      // Act
      const saved = await t.store.savePendingPlan(plan);
      const read = await t.store.getPendingPlan('plan-1');

      // Assess
      expectPlan(saved, { ...plan, expiresAt });
      expectPlan(read, { ...plan, expiresAt });
    });

    it('gives undefined for an id it never saved', async () => {
      // Prepare
      await t.store.savePendingPlan(pendingPlan({ id: 'plan-1' }));

      // Act & Assess: neither another id nor a prefix of a saved one
      expect(await t.store.getPendingPlan('plan-2')).toBeUndefined();
      expect(await t.store.getPendingPlan('plan-')).toBeUndefined();
    });

    it("drops a plan once it expires by the store's clock", async () => {
      // Prepare: saved 250 ms into a second, so it expires at START + 24 h + 1 s
      const plan = pendingPlan({ savedAt: new Date(Date.parse(START) + 250) });
      const saved = await t.store.savePendingPlan(plan);

      // Act & Assess: still there the millisecond before
      t.clock.advance(PENDING_PLAN_RETENTION_MS + 999);
      expectPlan(await t.store.getPendingPlan('plan-1'), saved);

      // Act & Assess: gone at its expiry, and after
      t.clock.advance(1);
      expect(await t.store.getPendingPlan('plan-1')).toBeUndefined();
      t.clock.advance(DAY_MS);
      expect(await t.store.getPendingPlan('plan-1')).toBeUndefined();
    });

    it('replaces a plan whole: with a shorter body, then a longer one, nothing of the one before stays', async () => {
      // Prepare: saved on whole seconds, so each expires exactly 24 h later
      const at = (minutes: number) => new Date(Date.parse(START) + minutes * MINUTE_MS);
      const kept = (plan: PendingPlan): LedgerPendingPlan => ({
        ...plan,
        expiresAt: new Date(plan.savedAt.getTime() + PENDING_PLAN_RETENTION_MS),
      });
      const first = pendingPlan({ body: pseudoRandomBytes(LARGE_BODY_BYTES, 1) });
      const shorter = pendingPlan({
        repository: 'apps/api',
        body: pseudoRandomBytes(10_000, 2),
        savedAt: at(1),
      });
      const longer = pendingPlan({ body: pseudoRandomBytes(2 * LARGE_BODY_BYTES, 3), savedAt: at(2) });
      await t.store.savePendingPlan(first);

      // Act & Assess: shorter
      expectPlan(await t.store.savePendingPlan(shorter), kept(shorter));
      expectPlan(await t.store.getPendingPlan('plan-1'), kept(shorter));

      // Act & Assess: longer
      expectPlan(await t.store.savePendingPlan(longer), kept(longer));
      expectPlan(await t.store.getPendingPlan('plan-1'), kept(longer));
    });

    it.each([
      ['an id', { id: '' }, /\bid\b/],
      ['a repository', { repository: '' }, /\brepository\b/],
      ['a body', { body: new Uint8Array() }, /\bbody\b/],
    ])('refuses a plan without %s, naming the field, and writes nothing', async (_field, fields, named) => {
      // Prepare
      const plan = pendingPlan(fields);

      // Act
      const failure = await t.store.savePendingPlan(plan).catch((error: unknown) => error);

      // Assess
      expect(failure).toBeInstanceOf(LedgerInputError);
      expect((failure as Error).message).toMatch(named);
      expect(await t.store.getPendingPlan(plan.id)).toBeUndefined();
    });
  });
}
