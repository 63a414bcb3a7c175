/**
 * Command-line parsing for `gbp` (node's util.parseArgs, strict). Pure: no file
 * system access here; checks that need files (labels, inputs, weights) live in
 * setup.ts. Every problem is a {@link UsageError} (exit code 2).
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';

export const MODEL_NAMES = ['face-expression', 'alexnet', 'vgg16', 'resnet18', 'resnet50'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];
export const METHODS = ['guided', 'vanilla'] as const;
export type Method = (typeof METHODS)[number];
/** Devices `--device` accepts (`auto` is resolved before the model loads). */
export const DEVICES = ['cpu', 'gpujs-webasm', 'gpujs-webgpu', 'auto'] as const;
export type DeviceName = (typeof DEVICES)[number];

/** A bad command line (or option value): printed as one `gbp: error: ...` line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parsed, syntactically valid options. */
export interface CliOptions {
  /** Image files and/or folders, as given. */
  inputs: string[];
  model: ModelName;
  /** `.safetensors` for torchvision architectures; optional tfjs manifest for face-expression. */
  weights: string | null;
  num_classes: number | null;
  labels_file: string | null;
  /** `--target` as given (a label or an index); null = top prediction. */
  target: string | null;
  out: string;
  method: Method;
  /** Kernel backend the model runs on (`model.to(device)`); default cpu. */
  device: DeviceName;
  npy: boolean;
  json: boolean;
  verbose: boolean;
  debug: boolean;
  /** Worker threads; null = automatic (min(cores, images)). */
  jobs: number | null;
}

export type ParseResult = { help: true } | ({ help: false } & CliOptions);

export const HELP_TEXT = `Usage: pnpm gbp <image...|folder> [options]

Guided-backpropagation saliency maps (Springenberg et al.) for a CNN, ported
line for line from PyTorch's pytorch-cnn-visualizations. For each image, writes
to --out:
  <stem>_Guided_BP_color.png   gradient w.r.t. the input, min-max normalized
  <stem>_Guided_BP_gray.png    |gradient| summed over channels (99th pct.)
  <stem>_pos_sal.png           positive part of the gradient
  <stem>_neg_sal.png           negative part of the gradient
  <stem>_report.html           input, maps and predictions on one page
(--method vanilla: <stem>_Vanilla_BP_color.png, <stem>_Vanilla_BP_gray.png
 and the report.)

Inputs: PNG or JPEG files, or folders (their .png/.jpg/.jpeg files, not
recursive). Several images are processed in parallel (worker threads).

Options:
  -m, --model NAME       face-expression (default): face-api's 7-class facial
                         expression CNN (bundled weights, 112x112 input);
                         or alexnet | vgg16 | resnet18 | resnet50 (torchvision
                         architectures, 224x224 ImageNet preprocessing), which
                         need --weights
  -w, --weights FILE     .safetensors state dict with torchvision key names
                         (for face-expression: a tfjs weights manifest .json)
  -n, --num-classes N    classes of the torchvision model's last layer
                         (default: the number of --labels, else 1000)
  -l, --labels FILE      class names, one per line
  -t, --target LABEL|INDEX
                         class to explain (default: the top prediction);
                         an index is 0-based
  -o, --out DIR          output folder (default: results)
      --method M         guided (default) | vanilla
      --device D         where the model runs (model.to(D)):
                         cpu (default) | gpujs-webasm (gpu.js WebAssembly;
                         correct but much slower here) | gpujs-webgpu (the
                         whole pass on a WebGPU adapter, one readback; needs
                         an adapter, or VK_ICD_FILENAMES for a software one)
                         | auto (the fastest that really works; never a
                         software GPU adapter)
      --npy              also write the raw C×H×W float32 input gradient as
                         <stem>_Guided_BP.npy (numpy .npy v1.0)
      --json             print one JSON object per image (stdout) instead of text
  -j, --jobs N           parallel workers (default: min(cores, images))
  -v, --verbose          more detail on stderr (chosen backend and adapter and
                         why, model loading, workers, library warnings)
      --debug            stack traces on errors
  -h, --help             this help

Exit codes: 0 success, 1 some image failed, 2 usage error (options, labels,
target, or weights that do not fit the model).

Examples:
  pnpm gbp examples/AF01HAHR.png
  pnpm gbp photos/ --out results --jobs 2 --json
  pnpm gbp cat.jpg --model resnet50 --weights resnet50.safetensors \\
      --labels imagenet_classes.txt --target 281
`;

function positiveInt(name: string, raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
    throw new UsageError(`${name} expects a positive integer, got '${raw}'`);
  }
  return Number(raw);
}

function oneOf<T extends string>(name: string, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new UsageError(`${name} must be one of ${allowed.join(', ')}; got '${raw}'`);
  }
  return raw as T;
}

/** Parses `argv` (without `node` and the script). Throws {@link UsageError}. */
export function parse_args(argv: readonly string[]): ParseResult {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        model: { type: 'string', short: 'm' },
        weights: { type: 'string', short: 'w' },
        'num-classes': { type: 'string', short: 'n' },
        labels: { type: 'string', short: 'l' },
        target: { type: 'string', short: 't' },
        out: { type: 'string', short: 'o' },
        method: { type: 'string' },
        device: { type: 'string' },
        npy: { type: 'boolean' },
        json: { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v' },
        debug: { type: 'boolean' },
        jobs: { type: 'string', short: 'j' },
      },
    });
  } catch (e) {
    // node's messages can span lines ("... ambiguous.\nDid you forget ..."): keep them on one
    throw new UsageError((e as Error).message.replace(/\s*\n\s*/g, ' '));
  }
  const v = parsed.values;
  if (v.help) return { help: true };

  const inputs = parsed.positionals;
  if (inputs.length === 0) throw new UsageError('no input images (try --help)');
  for (const i of inputs) if (i.trim() === '') throw new UsageError('an input path is empty');

  const model = oneOf('--model', v.model ?? 'face-expression', MODEL_NAMES);
  const method = oneOf('--method', v.method ?? 'guided', METHODS);
  const device = oneOf('--device', v.device ?? 'cpu', DEVICES);
  const weights = v.weights ?? null;
  if (weights !== null && weights.trim() === '') throw new UsageError('--weights is empty');
  if (model !== 'face-expression' && weights === null) {
    throw new UsageError(`--model ${model} needs --weights FILE.safetensors (a torchvision state dict); gbp never runs an architecture with random weights`);
  }
  const num_classes = v['num-classes'] === undefined ? null : positiveInt('--num-classes', v['num-classes']);
  if (model === 'face-expression' && num_classes !== null && num_classes !== 7) {
    throw new UsageError(`--num-classes ${num_classes} does not fit --model face-expression, which has 7 classes`);
  }
  const target = v.target ?? null;
  if (target !== null && target.trim() === '') throw new UsageError('--target is empty');
  const out = v.out ?? 'results';
  if (out.trim() === '') throw new UsageError('--out is empty');
  const jobs = v.jobs === undefined ? null : positiveInt('--jobs', v.jobs);

  return {
    help: false,
    inputs,
    model,
    weights,
    num_classes,
    labels_file: v.labels ?? null,
    target,
    out,
    method,
    device,
    npy: v.npy ?? false,
    json: v.json ?? false,
    verbose: v.verbose ?? false,
    debug: v.debug ?? false,
    jobs,
  };
}

/** Worker count for `n` images: `--jobs` if given (never more than the images), else min(cores, n). */
export function resolve_jobs(jobs: number | null, n: number): number {
  const want = jobs ?? availableParallelism();
  return Math.max(1, Math.min(want, n));
}
