/**
 * Shared by the ledger contract's parts and the adapter tests: a hand-moved clock, events,
 * removals, pending plans.
 */
import { sha256Digest, type Digest } from '../../../lambda/domain';
import type { LedgerEvent, LedgerStore, NewRemoval, PendingPlan } from '../../../lambda/ledger';

/** A clock the test moves by hand. */
export class TestClock {
  private current: number;

  public constructor(start: string) {
    this.current = Date.parse(start);
  }

  public readonly now = (): Date => new Date(this.current);

  public advance(ms: number): void {
    this.current += ms;
  }
}

/** How a contract test gets a fresh, empty store of the adapter under test. */
export interface LedgerFactory {
  open(options: { now: () => Date; archiveRetentionMs?: number }): Promise<LedgerStore>;
}

export const START = '2026-11-28T10:00:00.000Z';
export const MINUTE_MS = 60_000;
export const DAY_MS = 24 * 60 * MINUTE_MS;
export const REPOSITORY = 'apps/web';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** A distinct, well-formed digest per name. */
export const digestOf = (name: string): Digest => sha256Digest(name);

let eventCounter = 0;
/** A push/pull/delete event at `at` (ms after START), with a fresh id unless given. */
export function event(
  action: LedgerEvent['action'],
  fields: Partial<LedgerEvent> & { at?: number } = {},
): LedgerEvent {
  eventCounter += 1;
  const { at = 0, ...rest } = fields;
  return {
    id: `event-${eventCounter}`,
    action,
    repository: REPOSITORY,
    digest: digestOf('one'),
    mediaType: OCI_MANIFEST,
    timestamp: new Date(Date.parse(START) + at),
    ...rest,
  };
}

/** A removal of `digest` by `runId`, body = every byte value (not valid UTF-8 on purpose). */
export function removal(fields: Partial<NewRemoval> = {}): NewRemoval {
  return {
    runId: 'run-1',
    repository: REPOSITORY,
    digest: digestOf('one'),
    tags: ['main-1a2b3c4'],
    mediaType: OCI_MANIFEST,
    body: Uint8Array.from({ length: 512 }, (_, index) => (index * 7) % 256),
    removedAt: new Date(START),
    reason: "beyond keep=3 in stream 'main'",
    ...fields,
  };
}

/**
 * `length` pseudo-random bytes (xorshift32), the same for the same `seed`: a body in which a
 * chunk lost, repeated or out of order shows.
 */
export function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let index = 0; index < length; index += 1) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    bytes[index] = state & 0xff;
  }
  return bytes;
}

/** A pending plan `plan-1` of REPOSITORY saved at START, with a small pseudo-random body. */
export function pendingPlan(fields: Partial<PendingPlan> = {}): PendingPlan {
  return {
    id: 'plan-1',
    repository: REPOSITORY,
    body: pseudoRandomBytes(2048, 1),
    savedAt: new Date(START),
    ...fields,
  };
}
