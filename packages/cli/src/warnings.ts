/**
 * Process warnings, CLI style. Node's default handler prints `(node:PID) Type: message`;
 * instead, viz's warnings about a picture (e.g. a constant gradient saved as a black image)
 * become `gbp: warning: <image>: ...` lines, and library deprecation notices (the legacy
 * `register_backward_hook` the seed's GuidedBackprop uses triggers PyTorch's own
 * UserWarning) are shown only with --verbose.
 */

export interface WarningOptions {
  verbose: boolean;
  /** The image being processed, if any (warnings are attributed to it). */
  current(): string | null;
  /** Where a finished line goes. */
  print(line: string): void;
}

export function install_warning_handler(opts: WarningOptions): void {
  process.removeAllListeners('warning');
  process.on('warning', (w: Error & { code?: string }) => {
    const isViz = w.name === 'GradlensVizWarning' || w.code === 'GRADLENS_VIZ';
    if (!isViz && !opts.verbose) return;
    const img = opts.current();
    const where = img ? `${img}: ` : '';
    opts.print(`gbp: warning: ${where}${isViz ? '' : `${w.name}: `}${w.message.replace(/\s*\n\s*/g, ' ')}`);
  });
}
