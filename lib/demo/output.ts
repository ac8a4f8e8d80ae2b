/**
 * The demo's terminal output: one line per event, each prefixed with the seconds since the
 * demo started. Nothing is redrawn in place, so the same text reads well in a terminal and
 * in a CI log (no spinners, no cursor movement).
 */

/** Where lines go; the CLI passes stdout, tests pass a collector. */
export interface OutputSink {
  write(text: string): void;
}

export class Narrator {
  private readonly started: number;

  constructor(
    private readonly sink: OutputSink,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.started = now();
  }

  /** Seconds since the demo started. */
  elapsed(): number {
    return (this.now() - this.started) / 1000;
  }

  /** A line with the elapsed time in front: `[  12.3s] text`. */
  say(text: string): void {
    const stamp = `[${this.elapsed().toFixed(1).padStart(6)}s]`;
    const pad = ' '.repeat(stamp.length + 1);
    this.sink.write(`${stamp} ${text.split('\n').join(`\n${pad}`)}\n`);
  }

  /** Text without a time stamp (tables, blank lines). */
  raw(text: string): void {
    this.sink.write(text.endsWith('\n') ? text : `${text}\n`);
  }
}

/** Seconds with one decimal, e.g. `4.2s`. */
export const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

/** A plain text table: a header row and left-aligned columns two spaces apart. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows]
    .map((cols) =>
      cols
        .map((c, i) => (c ?? '').padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A metric value for people: up to 3 decimals for small numbers, 1 for larger ones. */
export function fmtNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '-';
  const a = Math.abs(v);
  if (a !== 0 && a < 10) return String(Number(v.toFixed(3)));
  return String(Number(v.toFixed(1)));
}

/** `mae 4.52, r2 0.94` */
export function fmtMetrics(metrics: Record<string, number> | undefined | null, only?: string[]): string {
  if (!metrics) return '-';
  const names = only ? only.filter((n) => n in metrics) : Object.keys(metrics);
  return names.length ? names.map((n) => `${n} ${fmtNumber(metrics[n])}`).join(', ') : '-';
}
