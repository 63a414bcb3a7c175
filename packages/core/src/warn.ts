const seen = new Set<string>();

/** @internal Emits a warning once per process per key, as Python's default warning filter does per call site. */
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
