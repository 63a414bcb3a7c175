/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal.
 * Text printed while it is shown goes through {@link Progress.print} /
 * {@link Progress.eprint}, which clear the bar first and redraw it after.
 */

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): boolean;
}

/** `[#####.....] 3/8  2 failed  name` fitted to `width` columns. */
export function format_bar(done: number, total: number, failed: number, label: string, width: number): string {
  const counts = `${done}/${total}`;
  const fail = failed > 0 ? `  ${failed} failed` : '';
  const barWidth = Math.max(10, Math.min(30, width - counts.length - fail.length - 20));
  const filled = total === 0 ? barWidth : Math.round((barWidth * done) / total);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${counts}${fail}`;
  const room = width - bar.length - 3;
  const name = room > 4 ? (label.length > room ? `…${label.slice(label.length - room + 1)}` : label) : '';
  return name ? `${bar}  ${name}` : bar;
}

export class Progress {
  private done = 0;
  private failed = 0;
  private label = '';
  private shown = false;
  readonly enabled: boolean;

  constructor(
    private readonly total: number,
    private readonly err: ProgressStream = process.stderr,
    private readonly out: ProgressStream = process.stdout,
    enabled?: boolean,
  ) {
    this.enabled = enabled ?? (err.isTTY === true && total > 1);
  }

  /** Marks the start of work on `label` (shown next to the bar). */
  start(label: string): void {
    this.label = label;
    this.draw();
  }

  /** One more item finished. */
  tick(ok: boolean, label = ''): void {
    this.done++;
    if (!ok) this.failed++;
    if (label) this.label = label;
    this.draw();
  }

  /** Prints to stdout without tearing the bar. */
  print(text: string): void {
    this.clear();
    this.out.write(text.endsWith('\n') ? text : `${text}\n`);
    this.draw();
  }

  /** Prints to stderr without tearing the bar. */
  eprint(text: string): void {
    this.clear();
    this.err.write(text.endsWith('\n') ? text : `${text}\n`);
    this.draw();
  }

  /** Removes the bar for good. */
  finish(): void {
    this.clear();
    this.shownFinal = true;
  }

  private shownFinal = false;

  private clear(): void {
    if (this.enabled && this.shown) {
      this.err.write('\r\x1b[2K');
      this.shown = false;
    }
  }

  private draw(): void {
    if (!this.enabled || this.shownFinal) return;
    const width = this.err.columns || 80;
    this.err.write(`\r\x1b[2K${format_bar(this.done, this.total, this.failed, this.label, width)}`);
    this.shown = true;
  }
}
