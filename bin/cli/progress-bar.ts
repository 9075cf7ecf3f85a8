import { SingleBar } from 'cli-progress';
import type { Phase, ProgressListener } from '../../lambda/engine';

const PHASE_LABELS: Record<Phase, string> = {
  list: 'listing repositories',
  resolve: 'resolving tags',
  age: 'reading image ages',
  verify: 're-verifying',
  remove: 'removing',
};

/**
 * A progress bar on stderr when it is a terminal; otherwise no output at all (so logs and pipes
 * stay clean). Returns the listener and a function that clears the bar.
 */
export function progressBar(stream: NodeJS.WriteStream = process.stderr): {
  listener?: ProgressListener;
  stop: () => void;
} {
  if (!stream.isTTY) return { stop: () => undefined };
  let bar: SingleBar | undefined;
  let phase: Phase | undefined;
  const stop = (): void => {
    bar?.stop();
    bar = undefined;
  };
  const listener: ProgressListener = (event) => {
    if (event.phase !== phase) {
      stop();
      phase = event.phase;
      bar = new SingleBar({
        stream,
        format: `${PHASE_LABELS[event.phase].padEnd(20)} [{bar}] {value}/{total}`,
        clearOnComplete: true,
        hideCursor: true,
      });
      bar.start(event.total, event.done);
    }
    bar?.setTotal(event.total);
    bar?.update(event.done);
  };
  return { listener, stop };
}
