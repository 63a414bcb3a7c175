/**
 * Collects the warnings of one public call and emits them as a single
 * `process.emitWarning` (code `GRADLENS_VIZ`), so degenerate input is reported
 * once per call instead of once per pixel.
 */
export class WarningCollector {
  private readonly messages = new Set<string>();

  constructor(private readonly fn: string) {}

  /** Records one message (duplicates are merged). */
  add(message: string): void {
    this.messages.add(message);
  }

  /** Whether anything was recorded. */
  get any(): boolean {
    return this.messages.size > 0;
  }

  /** Emits the recorded messages, if any, as one warning. */
  flush(): void {
    if (this.messages.size === 0) return;
    const text = `${this.fn}: ${[...this.messages].join('; ')}`;
    this.messages.clear();
    process.emitWarning(text, { type: 'GradlensVizWarning', code: 'GRADLENS_VIZ' });
  }
}
