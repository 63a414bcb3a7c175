/**
 * Error kinds and their one-line descriptions. The CLI never prints a stack
 * trace unless `--debug`; every failure is one `gbp: error: ...` line.
 */
import { UsageError } from './args.ts';

export { UsageError };

/** The model could not be built or its weights do not fit the architecture (exit code 2). */
export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';
}

/** A per-image failure whose message is already complete (exit code 1 at the end). */
export class ImageError extends Error {
  override readonly name = 'ImageError';
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a path component is not a directory',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
  EEXIST: 'already exists',
};

/** One line describing `e`, without a stack trace. Node fs errors become "path: reason". */
export function describe_error(e: unknown): string {
  if (e instanceof Error) {
    const err = e as NodeJS.ErrnoException;
    if (err.code && ERRNO_TEXT[err.code] && typeof err.path === 'string') return `${err.path}: ${ERRNO_TEXT[err.code]}`;
    return err.message.replace(/\s*\n\s*/g, ' ').trim() || err.name;
  }
  return String(e);
}

/** What `--debug` adds: the stack (and causes), if any. */
export function error_details(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  let s = e.stack ?? `${e.name}: ${e.message}`;
  let c: unknown = (e as { cause?: unknown }).cause;
  while (c instanceof Error) {
    s += `\nCaused by: ${c.stack ?? c.message}`;
    c = (c as { cause?: unknown }).cause;
  }
  return s;
}

/** A serializable error for crossing the worker boundary. */
export interface ErrorInfo {
  kind: 'usage' | 'model' | 'image' | 'internal';
  message: string;
  stack?: string;
}

export function to_error_info(e: unknown, kind?: ErrorInfo['kind']): ErrorInfo {
  const k = kind ?? (e instanceof UsageError ? 'usage' : e instanceof ModelLoadError ? 'model' : 'image');
  return { kind: k, message: describe_error(e), stack: error_details(e) };
}
