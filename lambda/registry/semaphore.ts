/**
 * A counting semaphore: at most `permits` holders at a time, waiters served first come, first
 * served. The undici Agent bounds connections per origin; this bounds requests in flight across
 * origins (registry and token realm) and keeps queued work out of undici's unbounded queue.
 */
export class Semaphore {
  private available: number;
  private readonly waiters: Array<() => void> = [];

  public constructor(permits: number) {
    if (!Number.isInteger(permits) || permits < 1) {
      throw new RangeError(`a semaphore needs a positive whole number of permits, got ${permits}`);
    }
    this.available = permits;
  }

  /** Waits for a permit; call the returned function exactly once to give it back. */
  public async acquire(): Promise<() => void> {
    if (this.available > 0) {
      this.available -= 1;
    } else {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      // Hand the permit straight to the next waiter so a newcomer cannot overtake it.
      if (next) next();
      else this.available += 1;
    };
  }
}
