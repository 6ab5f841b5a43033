// One AbortController per process: the first SIGTERM/SIGINT aborts it (the process drains
// and exits on its own), a second one exits at once with status 1.

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export interface ProcessSignalOptions {
  /** Told which signal started the drain. */
  onShutdown?: (signal: NodeJS.Signals) => void;
}

/** Installs the handlers (once per process) and returns the process's stop signal. */
export function processSignal(opts: ProcessSignalOptions = {}): AbortSignal {
  const abort = new AbortController();
  for (const name of SIGNALS) {
    process.on(name, () => {
      if (abort.signal.aborted) process.exit(1);
      opts.onShutdown?.(name);
      abort.abort();
    });
  }
  return abort.signal;
}
