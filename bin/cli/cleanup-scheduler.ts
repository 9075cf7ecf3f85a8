/**
 * How long a repository must be quiet before its cleanup starts: folds a burst of pushes into one
 * run. It is not what keeps a just-pushed tag safe (the registry notifies a push before it links
 * the tag, and may take longer than this): `serve` holds each pushed digest until its tag resolves
 * to it, and looks again while it does not (see `PUSH_RECHECK_DELAYS_MS` in serve.ts).
 */
export const SETTLE_DELAY_MS = 1_000;

/**
 * Runs cleanups one at a time per repository and coalesces bursts: requests for a repository wait
 * until it has been quiet for `settleMs`; a request for a repository that is being cleaned marks
 * it for exactly one more run after the current one. At most `maxConcurrent` repositories are
 * cleaned at once.
 */
export class CleanupScheduler {
  private readonly running = new Map<string, Promise<void>>();
  private readonly settling = new Map<string, NodeJS.Timeout>();
  private readonly again = new Set<string>();
  private readonly waiting: string[] = [];

  public constructor(
    private readonly clean: (repository: string) => Promise<void>,
    private readonly options: { maxConcurrent?: number; settleMs?: number } = {},
  ) {}

  /** Asks for a cleanup of `repository` once it has been quiet for a moment. */
  public request(repository: string): void {
    if (this.running.has(repository)) {
      this.again.add(repository);
      return;
    }
    clearTimeout(this.settling.get(repository));
    const timer = setTimeout(() => {
      this.settling.delete(repository);
      if (!this.waiting.includes(repository)) this.waiting.push(repository);
      this.startNext();
    }, this.options.settleMs ?? SETTLE_DELAY_MS);
    this.settling.set(repository, timer);
  }

  /** Repositories being cleaned, and waiting (settling, for a slot, or for a rerun). */
  public get load(): { running: number; pending: number } {
    return {
      running: this.running.size,
      pending: this.settling.size + this.waiting.length + this.again.size,
    };
  }

  /** Starts every settling cleanup now and resolves when nothing is left (graceful shutdown). */
  public async drain(): Promise<void> {
    for (const [repository, timer] of this.settling) {
      clearTimeout(timer);
      this.settling.delete(repository);
      if (!this.waiting.includes(repository)) this.waiting.push(repository);
    }
    this.startNext();
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  private startNext(): void {
    const limit = this.options.maxConcurrent ?? 4;
    while (this.running.size < limit && this.waiting.length > 0) {
      const repository = this.waiting.shift() as string;
      const run = this.clean(repository)
        .catch(() => undefined) // `clean` reports its own errors; one failure must not stop the rest
        .finally(() => {
          this.running.delete(repository);
          if (this.again.delete(repository)) this.request(repository);
          this.startNext();
        });
      this.running.set(repository, run);
    }
  }
}
