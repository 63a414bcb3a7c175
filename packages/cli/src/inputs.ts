/**
 * Input and option checks that need the file system but not the model: labels
 * file, target class, folder expansion, output stems, output folder. Option
 * problems throw {@link UsageError} (exit 2); a bad input path is not a usage
 * error but a failed item (exit 1 at the end).
 */
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';

import { UsageError } from './args.ts';
import { describe_error } from './errors.ts';

/** Image extensions taken from folders (files named explicitly are always tried). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

/** One unit of work: an image path, or an input that already failed (bad path, empty folder). */
export interface InputItem {
  /** The path as it will be reported. */
  image: string;
  /** Output file stem (file name without extension). */
  stem: string;
  /** Set when the input is already known to be unusable. */
  error?: string;
}

export function default_labels(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `class_${i}`);
}

/** Reads a labels file: one name per line; blank trailing lines ignored, CRLF accepted. */
export function read_labels(path: string): string[] {
  let text: string;
  try {
    if (statSync(path).isDirectory()) throw new UsageError(`--labels ${path}: is a directory, expected a text file with one label per line`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--labels: ${describe_error(e)}`);
  }
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).map((l) => l.trim());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new UsageError(`--labels ${path}: the file has no labels`);
  const blank = lines.findIndex((l) => l === '');
  if (blank >= 0) throw new UsageError(`--labels ${path}: line ${blank + 1} is empty (one label per line)`);
  return lines;
}

/**
 * `--target` as a class index: digits are a 0-based index (checked against the class
 * count); anything else must be a label (exact match first, then case-insensitive).
 */
export function resolve_target(raw: string | null, labels: readonly string[]): number | null {
  if (raw === null) return null;
  const t = raw.trim();
  if (/^[+-]?\d+$/.test(t)) {
    const i = Number(t);
    if (i < 0 || i >= labels.length) {
      throw new UsageError(`--target ${t}: class index out of range (the model has ${labels.length} classes, 0..${labels.length - 1})`);
    }
    return i;
  }
  let i = labels.indexOf(t);
  if (i < 0) {
    const lower = t.toLowerCase();
    const hits = labels.flatMap((l, k) => (l.toLowerCase() === lower ? [k] : []));
    if (hits.length > 1) throw new UsageError(`--target '${t}' matches several labels (${hits.map((k) => labels[k]).join(', ')}); use an index`);
    i = hits[0] ?? -1;
  }
  if (i < 0) {
    const shown = labels.length <= 20 ? `: ${labels.join(', ')}` : ` (${labels.length} labels; pass --labels FILE or use an index)`;
    throw new UsageError(`--target '${t}': unknown label; known labels${shown}`);
  }
  return i;
}

/** Expands folders into their image files (sorted, not recursive); nonexistent paths become failed items. */
export function expand_inputs(inputs: readonly string[]): InputItem[] {
  const items: InputItem[] = [];
  const stemOf = (p: string): string => basename(p, extname(p));
  for (const raw of inputs) {
    let st;
    try {
      st = statSync(raw);
    } catch (e) {
      items.push({ image: raw, stem: stemOf(raw), error: describe_error(e) });
      continue;
    }
    if (st.isDirectory()) {
      let names: string[];
      try {
        names = readdirSync(raw);
      } catch (e) {
        items.push({ image: raw, stem: stemOf(raw), error: describe_error(e) });
        continue;
      }
      const imgs = names
        .filter((n) => !n.startsWith('.') && (IMAGE_EXTENSIONS as readonly string[]).includes(extname(n).toLowerCase()))
        .sort()
        .map((n) => join(raw, n))
        .filter((p) => {
          try {
            return statSync(p).isFile();
          } catch {
            return false;
          }
        });
      if (imgs.length === 0) {
        items.push({ image: raw, stem: stemOf(raw), error: `${raw}: folder has no ${IMAGE_EXTENSIONS.join('/')} images` });
        continue;
      }
      for (const p of imgs) items.push({ image: p, stem: stemOf(p) });
    } else {
      items.push({ image: raw, stem: stemOf(raw) });
    }
  }
  return items;
}

/** Two different inputs with the same stem would overwrite each other's outputs. */
export function check_stems(items: readonly InputItem[]): void {
  const seen = new Map<string, string>();
  for (const it of items) {
    if (it.error) continue;
    const prev = seen.get(it.stem);
    if (prev !== undefined && resolve(prev) !== resolve(it.image)) {
      throw new UsageError(`inputs '${prev}' and '${it.image}' have the same name '${it.stem}'; their outputs would overwrite each other`);
    }
    seen.set(it.stem, it.image);
  }
}

/** Creates the output folder (and parents). */
export function prepare_out_dir(out: string): void {
  try {
    mkdirSync(out, { recursive: true });
    if (!statSync(out).isDirectory()) throw new Error('not a directory');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EEXIST' || err.code === 'ENOTDIR' || err.message === 'not a directory' ? 'exists and is not a folder' : describe_error(e);
    throw new UsageError(`--out ${out}: cannot create the output folder (${why.replace(`${out}: `, '')})`);
  }
}

