// The audit log file, rotated as Kubernetes' lumberjack logger does it for --audit-log-path:
// when a write would take the file past maxSizeBytes, the file is renamed to
// `<name>-<UTC timestamp 2006-01-02T15-04-05.000><ext>` (audit.log → audit-2026-11-29T20-30-00.000.log)
// and a new file started; then backups beyond maxBackups (newest kept) and older than maxAgeDays
// (by the timestamp in their name) are removed. 0 means no limit for both, and a maxSizeBytes
// of 0 means lumberjack's default of 100 MB. The file and every new one are mode 0600 and the
// directory is created 0700: the log names who read which Secret.

import { mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';

export const DEFAULT_MAX_SIZE_BYTES = 100 * 1024 * 1024;
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const DAY_MS = 24 * 60 * 60 * 1000;
const BACKUP_STAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})\.(\d{3})$/;

export interface RotatingFileOptions {
  path: string;
  /** 0: 100 MB, as lumberjack. */
  maxSizeBytes: number;
  /** How many rotated files to keep; 0 keeps all. */
  maxBackups: number;
  /** Rotated files older than this many days are removed; 0 keeps them regardless of age. */
  maxAgeDays: number;
  /** Milliseconds since the epoch; the backup names and the age cut-off use it. */
  now?: () => number;
}

/** `2026-11-29T20-30-00.123`: lumberjack's backup time format, in UTC. */
export function backupStamp(epochMillis: number): string {
  return new Date(epochMillis).toISOString().slice(0, 23).replace(/:/g, '-');
}

function parseBackupStamp(stamp: string): number | undefined {
  const m = BACKUP_STAMP.exec(stamp);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, ms] = m.map(Number);
  if ([y, mo, d, h, mi, s, ms].some((n) => n === undefined || Number.isNaN(n))) return undefined;
  return Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 1, h ?? 0, mi ?? 0, s ?? 0, ms ?? 0);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** One writer at a time: callers await each writeLines (the log backend's drain loop does). */
export class RotatingFile {
  private handle: FileHandle | undefined;
  private size = 0;
  private readonly maxSize: number;
  private readonly now: () => number;

  constructor(private readonly options: RotatingFileOptions) {
    this.maxSize = options.maxSizeBytes > 0 ? options.maxSizeBytes : DEFAULT_MAX_SIZE_BYTES;
    this.now = options.now ?? Date.now;
  }

  /** Creates the directory and the file (0600) now, so a bad path fails at start, not at the first request. */
  async open(): Promise<void> {
    if (this.handle !== undefined) return;
    await mkdir(dirname(this.options.path), { recursive: true, mode: DIR_MODE });
    const handle = await open(this.options.path, 'a', FILE_MODE);
    // An existing file keeps its mode on open(); tighten it, audit lines are sensitive.
    await handle.chmod(FILE_MODE);
    this.size = (await handle.stat()).size;
    this.handle = handle;
  }

  /**
   * Appends lines (each ending in a newline), rotating between two lines whenever the next one
   * would not fit. A line longer than the size limit is refused, as lumberjack refuses such a
   * write; the others are written. Returns how many were refused.
   */
  async writeLines(lines: readonly string[]): Promise<{ refused: number }> {
    try {
      return await this.writeOrRotate(lines);
    } catch (err) {
      // Start over with a fresh open next time (the directory may have been removed, the disk freed).
      await this.close().catch(() => undefined);
      throw err;
    }
  }

  private async writeOrRotate(lines: readonly string[]): Promise<{ refused: number }> {
    await this.open();
    let chunk: Buffer[] = [];
    let chunkBytes = 0;
    let refused = 0;
    for (const line of lines) {
      const bytes = Buffer.from(line, 'utf8');
      if (bytes.byteLength > this.maxSize) {
        refused += 1;
        continue;
      }
      if (this.size + chunkBytes + bytes.byteLength > this.maxSize) {
        await this.append(Buffer.concat(chunk));
        [chunk, chunkBytes] = [[], 0];
        if (this.size + bytes.byteLength > this.maxSize) await this.rotate();
      }
      chunk.push(bytes);
      chunkBytes += bytes.byteLength;
    }
    await this.append(Buffer.concat(chunk));
    return { refused };
  }

  private async append(bytes: Buffer): Promise<void> {
    const handle = this.handle;
    if (handle === undefined) throw new Error('audit log file is closed');
    let offset = 0;
    while (offset < bytes.byteLength) {
      const { bytesWritten } = await handle.write(bytes, offset);
      offset += bytesWritten;
      this.size += bytesWritten;
    }
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }

  private async backupPath(): Promise<string> {
    const { path } = this.options;
    const ext = extname(path);
    const prefix = basename(path, ext);
    // Two rotations in one millisecond would overwrite a backup; the later one moves on a millisecond.
    for (let t = this.now(); ; t += 1) {
      const candidate = join(dirname(path), `${prefix}-${backupStamp(t)}${ext}`);
      if (!(await exists(candidate))) return candidate;
    }
  }

  private async rotate(): Promise<void> {
    await this.close();
    await rename(this.options.path, await this.backupPath());
    const handle = await open(this.options.path, 'w', FILE_MODE);
    await handle.chmod(FILE_MODE);
    this.handle = handle;
    this.size = 0;
    await this.removeOldBackups();
  }

  /** The rotated files of this log, newest first. */
  async backups(): Promise<{ path: string; time: number }[]> {
    const { path } = this.options;
    const dir = dirname(path);
    const ext = extname(path);
    const prefix = `${basename(path, ext)}-`;
    const found: { path: string; time: number }[] = [];
    for (const name of await readdir(dir)) {
      if (!name.startsWith(prefix) || !name.endsWith(ext)) continue;
      const time = parseBackupStamp(name.slice(prefix.length, name.length - ext.length));
      if (time !== undefined) found.push({ path: join(dir, name), time });
    }
    return found.sort((a, b) => b.time - a.time);
  }

  private async removeOldBackups(): Promise<void> {
    const { maxBackups, maxAgeDays } = this.options;
    if (maxBackups <= 0 && maxAgeDays <= 0) return;
    const all = await this.backups();
    const cutoff = this.now() - maxAgeDays * DAY_MS;
    const doomed = all.filter((b, i) => (maxBackups > 0 && i >= maxBackups) || (maxAgeDays > 0 && b.time < cutoff));
    await Promise.all(doomed.map((b) => unlink(b.path).catch(() => undefined)));
  }
}
