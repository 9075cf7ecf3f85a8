/** The phases of a run, in order. */
export type Phase = 'list' | 'resolve' | 'age' | 'verify' | 'remove';

/** A progress update: `done` of `total` units of work in `phase` (total may grow while listing). */
export interface ProgressEvent {
  readonly phase: Phase;
  readonly done: number;
  readonly total: number;
}

/** Receives progress updates; the CLI draws a bar, Lambdas ignore them. */
export type ProgressListener = (event: ProgressEvent) => void;

/** Counts finished units of one phase and reports each step. */
export class PhaseCounter {
  private done = 0;

  public constructor(
    private readonly phase: Phase,
    private total: number,
    private readonly listener?: ProgressListener,
  ) {
    listener?.({ phase, done: 0, total });
  }

  /** Adds work discovered along the way (tags found while listing). */
  public grow(units: number): void {
    this.total += units;
    this.listener?.({ phase: this.phase, done: this.done, total: this.total });
  }

  public tick(): void {
    this.done += 1;
    this.listener?.({ phase: this.phase, done: this.done, total: this.total });
  }
}
