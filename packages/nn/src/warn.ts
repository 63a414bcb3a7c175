const seen = new Set<string>();

/**
 * Emits a UserWarning once per key (Python's default filter warns once per call site).
 * `_resetWarnings` is for tests.
 */
export function warnOnce(key: string, message: string): void {
  if (seen.has(key)) return;
  seen.add(key);
  const proc = (globalThis as { process?: { emitWarning?: (m: string, type: string) => void } }).process;
  if (proc?.emitWarning) proc.emitWarning(message, 'UserWarning');
  else console.warn(`UserWarning: ${message}`);
}

/** @internal Forgets which warnings were emitted (tests). */
export function _resetWarnings(): void {
  seen.clear();
}
