/**
 * Loading and saving state dicts as safetensors files (Node). Browsers: use
 * `decode_safetensors` / `encode_safetensors` from `./safetensors_core.ts` on bytes.
 *
 * ```ts
 * const sd = nn.load_safetensors('resnet50.safetensors');   // Record<string, Tensor>
 * model.load_state_dict(sd);
 * nn.save_safetensors(model.state_dict(), 'copy.safetensors');
 * ```
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { decode_safetensors, encode_safetensors, SafetensorsError, type StateDict } from './safetensors_core.ts';

export { decode_safetensors, encode_safetensors, SafetensorsError, MAX_HEADER_BYTES, type StateDict } from './safetensors_core.ts';

/** Options of {@link load_safetensors}. */
export interface LoadSafetensorsOptions {
  /** Receives the file's `__metadata__` object when present. */
  onMetadata?: (metadata: Record<string, string>) => void;
}

/**
 * Reads a safetensors file (or bytes) into a state dict: names in file order; F32/F16/BF16/F64
 * tensors as float32, integer tensors (e.g. `num_batches_tracked`) as int64, BOOL as bool.
 * Throws a {@link SafetensorsError} naming the file when the header or offsets are corrupt.
 */
export function load_safetensors(source: string | Uint8Array, opts: LoadSafetensorsOptions = {}): StateDict {
  if (typeof source === 'string') {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(source);
    } catch (e) {
      throw new SafetensorsError(source, `cannot read file (${(e as Error).message})`);
    }
    // The buffer was read just for this: its aligned F32 tensors can view it in place.
    return decode_safetensors(bytes, { name: source, onMetadata: opts.onMetadata, _adopt: true });
  }
  return decode_safetensors(source, { onMetadata: opts.onMetadata });
}

/**
 * Writes a state dict to `path` atomically: the bytes go to a temporary file in the same
 * directory, which is fsynced and renamed over `path`, so readers never see a partial file.
 */
export function save_safetensors(sd: StateDict, path: string, metadata?: Record<string, string>): void {
  const bytes = encode_safetensors(sd, metadata);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  let fd = -1;
  try {
    fd = openSync(tmp, 'wx');
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw e;
  }
}
