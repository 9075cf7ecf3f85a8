/**
 * Runs cleanups one at a time per repository and coalesces bursts: a request for a repository that
 * is already being cleaned marks it for exactly one more run after the current one (a burst of 50
 * pushes costs at most two runs). At most `maxConcurrent` repositories are cleaned at once.
 */
export class CleanupScheduler {
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly waiting: string[] = [];

  public constructor(
    private readonly clean: (repository: string) => Promise<void>,
    private readonly maxConcurrent = 4,
  ) {}

  /** Asks for a cleanup of `repository` soon. */
  public request(repository: string): void {
    if (this.running.has(repository)) {
      this.again.add(repository);
    } else if (!this.waiting.includes(repository)) {
      this.waiting.push(repository);
      this.startNext();
    }
  }

  /** Repositories being cleaned, and waiting for a slot or a rerun. */
  public get load(): { running: number; pending: number } {
    return { running: this.running.size, pending: this.waiting.length + this.again.size };
  }

  /** Resolves when nothing is running or waiting (used for graceful shutdown and tests). */
  public async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  private startNext(): void {
    while (this.running.size < this.maxConcurrent && this.waiting.length > 0) {
      const repository = this.waiting.shift() as string;
      const run = this.clean(repository)
        .catch(() => undefined) // `clean` reports its own errors; a failure must not stop the scheduler
        .finally(() => {
          this.running.delete(repository);
          if (this.again.delete(repository)) this.waiting.push(repository);
          this.startNext();
        });
      this.running.set(repository, run);
    }
  }
}
