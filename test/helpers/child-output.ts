import type { ChildProcess } from 'node:child_process';

/** A child process's stdout and stderr as one text, and a way to await what it writes. */
export interface ChildOutput {
  /** Everything written so far. */
  readonly text: string;
  /**
   * Resolves once the output holds `count` matches of `pattern`, or the child exited (the test's
   * assertions then say what is missing): an awaited event, never a sleep or a poll.
   */
  logged(pattern: RegExp, count?: number): Promise<void>;
}

/** Starts collecting `child`'s output; call it right after spawning. */
export function watchOutput(child: ChildProcess): ChildOutput {
  let text = '';
  let exited = false;
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  const append = (chunk: Buffer): void => {
    text += chunk.toString();
    wake();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  child.once('exit', () => {
    exited = true;
    wake();
  });
  return {
    get text() {
      return text;
    },
    logged(pattern, count = 1) {
      const global = new RegExp(
        pattern.source,
        pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`,
      );
      const reached = (): boolean => exited || (text.match(global) ?? []).length >= count;
      return new Promise<void>((resolve) => {
        const check = (): void => {
          if (!reached()) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    },
  };
}
