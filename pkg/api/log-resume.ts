// Resuming a followed container log after its stream broke (coxctl logs -f, the dashboard's
// log view): the log is read with timestamps=true and asked for again with sinceTime = the
// timestamp of the last line shown. The runtime may send lines from that instant again
// (Docker's `since` is inclusive and the agent keeps milliseconds), so a resumed stream skips
// lines older than that timestamp and, of the lines stamped exactly with it, as many as were
// already shown. Runs in Node and in the browser.

/** An RFC 3339 timestamp with 0 to 9 (or more) fraction digits as nanoseconds since the epoch. */
export function timestampNanos(ts: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(ts);
  if (m === null) return undefined;
  const seconds = Date.parse(`${m[1] ?? ''}${m[3] ?? ''}`);
  if (Number.isNaN(seconds)) return undefined;
  return BigInt(seconds) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** Where a followed log resumes, and the de-duplication rule for what the server sends again. */
export class LogResume {
  /** The timestamp (as sent) of the last printed line. */
  private at: string | undefined;
  private atNanos: bigint | undefined;
  /** Lines printed that carry exactly `at`. */
  private printedAt = 0;
  /** In a resumed stream: lines stamped `at` still to skip. */
  private skipAt = 0;

  sinceTime(): string | undefined {
    return this.at;
  }

  /** A new stream starts: lines stamped with the resume instant were printed before. */
  restart(): void {
    this.skipAt = this.printedAt;
  }

  /** Whether a timestamped line is new; records it when it is. */
  accept(line: string): boolean {
    const space = line.indexOf(' ');
    const ts = space === -1 ? line : line.slice(0, space);
    const nanos = timestampNanos(ts);
    if (nanos === undefined) return true;
    if (this.atNanos !== undefined && nanos < this.atNanos) return false;
    if (this.atNanos !== undefined && nanos === this.atNanos) {
      if (this.skipAt > 0) {
        this.skipAt--;
        return false;
      }
      this.printedAt++;
      return true;
    }
    this.at = ts;
    this.atNanos = nanos;
    this.printedAt = 1;
    this.skipAt = 0;
    return true;
  }
}

/** A timestamped log line without its timestamp. */
export function withoutTimestamp(line: string): string {
  const space = line.indexOf(' ');
  return space === -1 ? line : line.slice(space + 1);
}
