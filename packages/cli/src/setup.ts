/**
 * From parsed options to what the workers need: labels, class count, target
 * class, the list of inputs (folders expanded), output folder. Done once,
 * before any model is loaded.
 */
import { resolve } from 'node:path';

import * as nn from './nn_api.ts';

import { UsageError } from './args.ts';
import type { CliOptions, Method, ModelName } from './args.ts';
import { check_stems, default_labels, expand_inputs, prepare_out_dir, read_labels, resolve_target } from './inputs.ts';
import type { InputItem } from './inputs.ts';

export type { InputItem };

/** Everything a worker needs; plain data (crosses worker_threads). */
export interface RunConfig {
  model: ModelName;
  weights: string | null;
  num_classes: number;
  /** Class names, index = class. */
  labels: string[];
  /** Resolved target class, or null for the top prediction. */
  target: number | null;
  out: string;
  method: Method;
  /** Concrete kernel backend for `model.to(...)` (main resolves `auto` before any model loads). */
  device: string;
  npy: boolean;
  verbose: boolean;
  debug: boolean;
}

/** From parsed options to the worker config plus the work items (deduplicated by path). */
export function setup(opts: CliOptions): { config: RunConfig; items: InputItem[] } {
  let labels: string[];
  let num_classes: number;
  const fileLabels = opts.labels_file !== null ? read_labels(opts.labels_file) : null;
  if (opts.model === 'face-expression') {
    num_classes = nn.models.FACE_EXPRESSION_LABELS.length;
    if (fileLabels && fileLabels.length !== num_classes) {
      throw new UsageError(`--labels ${opts.labels_file}: has ${fileLabels.length} labels, but face-expression has ${num_classes} classes`);
    }
    labels = fileLabels ?? [...nn.models.FACE_EXPRESSION_LABELS];
  } else {
    num_classes = opts.num_classes ?? fileLabels?.length ?? 1000;
    if (fileLabels && fileLabels.length !== num_classes) {
      throw new UsageError(`--labels ${opts.labels_file}: has ${fileLabels.length} labels, but --num-classes is ${num_classes}`);
    }
    labels = fileLabels ?? default_labels(num_classes);
  }
  const target = resolve_target(opts.target, labels);

  const seen = new Set<string>();
  const items = expand_inputs(opts.inputs).filter((it) => {
    const key = it.error ? `!${it.image}` : resolve(it.image);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  check_stems(items);
  prepare_out_dir(opts.out);
  return {
    config: {
      model: opts.model,
      weights: opts.weights,
      num_classes,
      labels,
      target,
      out: opts.out,
      method: opts.method,
      device: opts.device,
      npy: opts.npy,
      verbose: opts.verbose,
      debug: opts.debug,
    },
    items,
  };
}
