import fc from 'fast-check';
import { MediaType, type Digest, type RepositoryInventory, type TagRecord } from '../../../lambda/domain';
import { compilePolicy, planUntagged, type KnownManifest } from '../../../lambda/policy';
import { DAY_MS, NOW, digestOf } from './builders';

const policy = compilePolicy({ rules: [{ name: 'none', tags: 'never' }], untagged: [{ olderThan: '0s' }] });
const entry = policy.untagged[0]!;

/** A random repository: manifests linking to others (children, subjects), some of them tagged. */
const repositoryArbitrary = fc.integer({ min: 1, max: 14 }).chain((count) =>
  fc.record({
    manifests: fc.array(
      fc.record({
        index: fc.boolean(),
        children: fc.uniqueArray(fc.integer({ min: 0, max: count - 1 }), { maxLength: 3 }),
        subject: fc.option(fc.integer({ min: 0, max: count - 1 }), { nil: undefined }),
        tagged: fc.boolean(),
        // Where the index's children are known: the ledger, the inventory, or both.
        childrenIn: fc.constantFrom('ledger', 'inventory', 'both'),
        subjectIn: fc.constantFrom('ledger', 'inventory'),
        pushedDaysAgo: fc.integer({ min: 0, max: 5 }),
      }),
      { minLength: count, maxLength: count },
    ),
  }),
);

function build(generated: {
  manifests: Array<{
    index: boolean;
    children: number[];
    subject: number | undefined;
    tagged: boolean;
    childrenIn: string;
    subjectIn: string;
    pushedDaysAgo: number;
  }>;
}) {
  const digests = generated.manifests.map((_, n) => digestOf(n + 1));
  const known: KnownManifest[] = [];
  const tags: TagRecord[] = [];
  const referrers: { digest: Digest; subject: Digest }[] = [];
  const indexes: { digest: Digest; children: Digest[] }[] = [];
  generated.manifests.forEach((manifest, n) => {
    const digest = digests[n]!;
    const children = manifest.index ? manifest.children.map((c) => digests[c]!) : undefined;
    const subject = manifest.subject !== undefined ? digests[manifest.subject] : undefined;
    const mediaType = manifest.index ? MediaType.OciIndex : MediaType.OciManifest;
    const inLedger = !children || manifest.childrenIn !== 'inventory';
    known.push({
      digest,
      mediaType,
      ...(children && inLedger && { children }),
      ...(subject && manifest.subjectIn === 'ledger' && { subject }),
      linksKnown: inLedger,
      pushedAt: new Date(NOW.getTime() - manifest.pushedDaysAgo * DAY_MS),
    });
    if (subject && manifest.subjectIn === 'inventory') referrers.push({ digest, subject });
    const inInventory = children && manifest.childrenIn !== 'ledger';
    if (manifest.tagged) tags.push({ tag: `t${n}`, digest, mediaType, ...(inInventory && { children }) });
    else if (inInventory) indexes.push({ digest, children });
  });
  const repository: RepositoryInventory = { name: 'apps/web', tags, indexes, referrers };
  return { repository, known, digests, generated };
}

/** The reference: every digest a tag reaches through children and referrers, by plain search. */
function reachable(generated: Parameters<typeof build>[0], digests: Digest[]): Set<Digest> {
  const seen = new Set<number>();
  const stack = generated.manifests.flatMap((m, n) => (m.tagged ? [n] : []));
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    const manifest = generated.manifests[n]!;
    if (manifest.index) stack.push(...manifest.children);
    generated.manifests.forEach((other, m) => {
      if (other.subject === n) stack.push(m);
    });
  }
  return new Set([...seen].map((n) => digests[n]!));
}

describe('Function: planUntagged (property)', () => {
  it('never plans a digest a current tag reaches, at any depth, referrers included', () => {
    fc.assert(
      fc.property(repositoryArbitrary, (generated) => {
        const { repository, known, digests } = build(generated);
        const held = reachable(generated, digests);
        const plans = planUntagged(repository, known, entry, NOW);
        for (const plan of plans) {
          expect(held.has(plan.digest)).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('removes an index before any child it lists, and keeps what a kept untagged manifest reaches', () => {
    fc.assert(
      fc.property(repositoryArbitrary, (generated) => {
        const { repository, known, digests } = build(generated);
        const plans = planUntagged(repository, known, entry, NOW);
        const position = new Map(plans.map((plan, at) => [plan.digest, at]));
        const action = new Map(plans.map((plan) => [plan.digest, plan.action]));
        generated.manifests.forEach((manifest, n) => {
          const digest = digests[n]!;
          if (!manifest.index || !position.has(digest)) return;
          for (const child of manifest.children) {
            const childDigest = digests[child]!;
            if (!position.has(childDigest) || childDigest === digest) continue;
            if (action.get(digest) === 'keep' && known[n]!.children)
              expect(action.get(childDigest)).toBe('keep');
            if (
              action.get(digest) === 'delete' &&
              action.get(childDigest) === 'delete' &&
              !inCycle(generated, n, child)
            )
              expect(position.get(childDigest)!).toBeGreaterThan(position.get(digest)!);
          }
        });
      }),
      { numRuns: 500 },
    );
  });
});

/** Whether `child` leads back to `parent` through the links a removal order follows (a loop). */
function inCycle(generated: Parameters<typeof build>[0], parent: number, child: number): boolean {
  const seen = new Set<number>();
  const stack = [child];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n === parent) return true;
    if (seen.has(n)) continue;
    seen.add(n);
    const manifest = generated.manifests[n]!;
    if (manifest.index) stack.push(...manifest.children);
    if (manifest.subject !== undefined) stack.push(manifest.subject);
  }
  return false;
}
