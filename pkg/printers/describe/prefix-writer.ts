// kubectl describe's writer: text written at indentation levels (two spaces each), then laid
// out by the rules of Go's text/tabwriter as kubectl configures it (min width 0, padding 2,
// spaces). A tab ends a cell; consecutive lines that have a cell in the same column form a
// block whose cells are padded to the block's widest cell plus the padding; a line with fewer
// cells ends the block. The text after a line's last tab is never padded.

export const LEVEL_0 = 0;
export const LEVEL_1 = 1;
export const LEVEL_2 = 2;
export const LEVEL_3 = 3;
export const LEVEL_4 = 4;

export interface TabLayout {
  minWidth: number;
  padding: number;
}

/** kubectl's tabwriter.Init(buf, 0, 8, 2, ' ', 0). */
export const DESCRIBE_LAYOUT: TabLayout = { minWidth: 0, padding: 2 };

/** Width as Go's tabwriter counts it: in code points, not UTF-16 units. */
function textWidth(text: string): number {
  let n = 0;
  for (const ch of text) if (ch.length > 0) n++;
  return n;
}

/** Lays out tab-separated lines as Go's tabwriter does; the text should end with a newline. */
export function alignTabs(text: string, layout: TabLayout = DESCRIBE_LAYOUT): string {
  const lines = text.split('\n').map((l) => l.split('\t'));
  // The piece after the final newline is an unfinished line: written as it is.
  const tail = lines.pop() ?? [''];
  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const cells = lines[i] ?? [];
      let line = '';
      cells.forEach((cell, j) => {
        const width = widths[j];
        line += width === undefined ? cell : cell + ' '.repeat(Math.max(0, width - textWidth(cell)));
      });
      out.push(line + '\n');
    }
  };

  // Go's format(): find each block of lines with a cell in the next column, size it, recurse.
  const format = (first: number, end: number): void => {
    const column = widths.length;
    let start = first;
    for (let i = first; i < end; i++) {
      if (column >= (lines[i]?.length ?? 0) - 1) continue;
      writeLines(start, i);
      let width = layout.minWidth;
      let j = i;
      for (; j < end; j++) {
        const cells = lines[j] ?? [];
        if (column >= cells.length - 1) break;
        width = Math.max(width, textWidth(cells[column] ?? '') + layout.padding);
      }
      widths.push(width);
      format(i, j);
      widths.pop();
      start = j;
      i = j;
    }
    writeLines(start, end);
  };

  format(0, lines.length);
  return out.join('') + tail.join('\t');
}

/** kubectl escapes what would drive a terminal (ESC as ^[, CR as \\r); other C0 controls become \\xNN here too. */
export function escapeTerminal(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    const control = (code < 0x20 && ch !== '\t' && ch !== '\n') || code === 0x7f;
    if (!control) out += ch;
    else if (ch === '\x1b') out += '^[';
    else if (ch === '\r') out += '\\r';
    else out += `\\x${code.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/**
 * Collects describe output. `write` indents by level and escapes; `flush` lays out what was
 * written so far as one unit (kubectl flushes before the Events table); `text` returns the
 * whole output, laid out.
 */
export class PrefixWriter {
  private pending = '';
  private done = '';

  write(level: number, text: string): void {
    this.pending += escapeTerminal('  '.repeat(level) + text);
  }

  /** A line with no indentation (kubectl's WriteLine). */
  line(text: string): void {
    this.pending += escapeTerminal(text) + '\n';
  }

  flush(): void {
    this.done += alignTabs(this.pending);
    this.pending = '';
  }

  text(): string {
    this.flush();
    return this.done;
  }
}
