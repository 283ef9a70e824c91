/**
 * Ctrl-C and `kill` during `offseg train`: SIGINT / SIGTERM become an AbortSignal the training
 * loop checks between iterations (it then writes a checkpoint and returns), with one line on
 * stderr saying what will happen. Before training starts nothing has been written, so a signal
 * then exits at once saying so; a second signal during training exits at once too, naming the
 * last checkpoint. Exit codes follow the shell convention 128 + signal number (130, 143).
 */

export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof SIGNAL_EXIT_CODES;

export interface Interrupts {
  /** Aborted (reason: the signal name) on the first signal once training has started. */
  readonly signal: AbortSignal;
  /** From now on a signal stops training cleanly instead of exiting. */
  trainingStarted(): void;
  /** Remove the handlers. */
  dispose(): void;
}

export interface InterruptOptions {
  workDir: string;
  /** The iteration reached and the newest checkpoint, for the message of a forced exit. */
  status: () => { iteration: number; lastCheckpoint?: string };
  write?: (line: string) => void;
  exit?: (code: number) => void;
}

/** Install SIGINT / SIGTERM handlers for one training command. */
export function handleInterrupts(opts: InterruptOptions): Interrupts {
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const controller = new AbortController();
  let training = false;
  const on = (sig: StopSignal) => () => {
    const code = SIGNAL_EXIT_CODES[sig];
    if (!training) {
      write(`\n[offseg] ${sig} before training started: nothing was written to ${opts.workDir}\n`);
      exit(code);
    } else if (!controller.signal.aborted) {
      write(
        `\n[offseg] ${sig}: stopping after the current iteration and saving a checkpoint (send it again to quit at once)\n`,
      );
      controller.abort(sig);
    } else {
      const { iteration, lastCheckpoint } = opts.status();
      write(
        `\n[offseg] ${sig} again: quitting now at iteration ${iteration}; ${lastCheckpoint ? `last checkpoint ${lastCheckpoint}` : 'no checkpoint was written'}\n`,
      );
      exit(code);
    }
  };
  const handlers = { SIGINT: on('SIGINT'), SIGTERM: on('SIGTERM') };
  process.on('SIGINT', handlers.SIGINT);
  process.on('SIGTERM', handlers.SIGTERM);
  return {
    signal: controller.signal,
    trainingStarted: () => {
      training = true;
    },
    dispose: () => {
      process.off('SIGINT', handlers.SIGINT);
      process.off('SIGTERM', handlers.SIGTERM);
    },
  };
}
