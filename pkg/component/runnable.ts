// The one contract of a long-running piece (component-base's): `start(signal)` runs until
// `signal` aborts and resolves only once everything it started has stopped. Readiness is a
// separate, explicit signal (a log line, a promise), never the resolution of `start`.

export interface Runnable {
  start(signal: AbortSignal): Promise<void>;
}
