/**
 * One image, start to finish: read, preprocess, predict, explain, write. The
 * outputs are first written into a hidden staging folder inside `--out` and
 * moved into place only when all of them exist, so a failure never leaves a
 * half-written set behind.
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

import * as torch from '@gradlens/core';
import * as viz from '@gradlens/viz';
import type { Image } from '@gradlens/viz';

import { GuidedBackprop, with_forward_output } from './backprop.ts';
import type { NdArray } from './backprop.ts';
import { ImageError } from './errors.ts';
import type { ModelContext } from './model_context.ts';
import { encode_npy } from './npy.ts';
import { render_report } from './report_html.ts';
import type { ReportPicture } from './report_html.ts';
import type { InputItem } from './inputs.ts';
import type { RunConfig } from './setup.ts';

export interface Prediction {
  index: number;
  label: string;
  prob: number;
}

export interface Timings {
  /** Reading and decoding the image file. */
  load: number;
  preprocess: number;
  /** The prediction forward pass. */
  forward: number;
  /** The explainer's `generate_gradients` (its own forward + backward). */
  backward: number;
  /** Saliency maps, PNG encoding, .npy, report. */
  write: number;
}

/** What `--json` prints for an image. */
export interface ImageResult {
  image: string;
  model: string;
  target: { index: number; label: string };
  predictions: Prediction[];
  outputs: string[];
  timings_ms: Timings;
}

/** How many predictions are reported: all when there are few classes, else the top 5. */
export function predictions_shown(n: number): number {
  return n <= 10 ? n : 5;
}

/** Softmax in float64, sorted by probability (descending; ties by index). */
export function rank_predictions(logits: readonly number[], labels: readonly string[]): Prediction[] {
  const m = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e
    .map((v, index) => ({ index, label: labels[index] ?? `class_${index}`, prob: v / z }))
    .sort((a, b) => b.prob - a.prob || a.index - b.index);
}

/** A float32 C×H×W array in C order. */
export interface Chw {
  shape: [number, number, number];
  data: Float32Array;
  /** The same values as a scijs ndarray (what viz takes). */
  nd: NdArray;
}

/** A C×H×W ndarray (any strides, any float type) as a fresh C-order float32 array. */
export function to_chw_f32(a: NdArray): Chw {
  if (a.shape.length !== 3) throw new Error(`expected a C×H×W gradient, got shape [${a.shape.join(', ')}]`);
  const [c, h, w] = a.shape as [number, number, number];
  const nd = torch.zeros([c, h, w]).numpy();
  const out = nd.data as Float32Array;
  let i = 0;
  for (let k = 0; k < c; k++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[i++] = a.get(k, y, x) as number;
  return { shape: [c, h, w], data: out, nd };
}

function read_input(path: string): Image {
  try {
    return viz.read_image(path);
  } catch (e) {
    if (e instanceof viz.ImageDecodeError) throw new ImageError(e.message);
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new ImageError(`${path}: no such file or directory`);
    if (err.code === 'EISDIR') throw new ImageError(`${path}: is a directory`);
    if (err.code === 'EACCES') throw new ImageError(`${path}: permission denied`);
    throw new ImageError(`cannot read image "${path}": ${err.message}`);
  }
}

/** Output names (without folder) for a stem and method. */
export function output_names(stem: string, method: 'guided' | 'vanilla', npy: boolean): { maps: string[]; npy: string | null; report: string } {
  const tag = method === 'guided' ? 'Guided_BP' : 'Vanilla_BP';
  const maps = method === 'guided'
    ? [`${stem}_Guided_BP_color.png`, `${stem}_Guided_BP_gray.png`, `${stem}_pos_sal.png`, `${stem}_neg_sal.png`]
    : [`${stem}_Vanilla_BP_color.png`, `${stem}_Vanilla_BP_gray.png`];
  return { maps, npy: npy ? `${stem}_${tag}.npy` : null, report: `${stem}_report.html` };
}

/**
 * Staging folders are `<out>/.gbp-<pid>-<stem>-XXXXXX`; worker threads share the pid, so the
 * main thread can remove the leftovers of an interrupted run (see main.ts).
 */
export const STAGE_PREFIX = `.gbp-${process.pid}-`;

const CAPTIONS_GUIDED = ['Colored guided backprop', 'Guided backprop saliency (gray)', 'Positive saliency', 'Negative saliency'];
const CAPTIONS_VANILLA = ['Colored vanilla backprop', 'Vanilla backprop saliency (gray)'];

/** Runs one image through `ctx` and writes its outputs to `cfg.out`. */
export async function run_image(ctx: ModelContext, item: InputItem, cfg: RunConfig): Promise<ImageResult> {
  if (item.error) throw new ImageError(item.error);
  const t: Timings = { load: 0, preprocess: 0, forward: 0, backward: 0, write: 0 };
  let t0 = performance.now();
  const image = read_input(item.image);
  t.load = performance.now() - t0;

  t0 = performance.now();
  const { tensor: host_img, display } = ctx.preprocess(image);
  // On a device (--device gpujs-webgpu) the image leaf is made there: backward never crosses back
  const resident = torch.get_device(cfg.device) !== null;
  const prep_img = resident ? host_img.detach().to(cfg.device).requires_grad_(host_img.requires_grad) : host_img;
  t.preprocess = performance.now() - t0;

  // Retrieve output from the image. Guided backprop on the image leaf: the forward is recorded
  // (its hooks are in place), and the explainer's own forward below reuses it.
  t0 = performance.now();
  const reuse = ctx.explainer instanceof GuidedBackprop && prep_img.requires_grad && torch.is_grad_enabled();
  const output = reuse ? ctx.model(prep_img) : torch.no_grad(() => ctx.model(prep_img));
  const logits = ((await output.detach().cpu()).reshape([-1]).tolist() as number[]).map(Number);
  t.forward = performance.now() - t0;
  if (logits.length !== ctx.labels.length) {
    throw new Error(`the model produced ${logits.length} outputs but there are ${ctx.labels.length} labels`);
  }
  const ranked = rank_predictions(logits, ctx.labels);
  const target_class = cfg.target ?? ranked[0]!.index;

  // Do backpropagation to get the derivative of the output based on the image
  t0 = performance.now();
  const explain = (): NdArray | Promise<NdArray> =>
    resident ? ctx.explainer.generate_gradients_async(prep_img, target_class) : ctx.explainer.generate_gradients(prep_img, target_class);
  const grads = to_chw_f32(await (reuse ? with_forward_output(ctx.model, prep_img, output, explain) : explain()));
  t.backward = performance.now() - t0;
  const [, , H, W] = prep_img.shape as [number, number, number, number];
  if (grads.shape[0] !== 3 || grads.shape[1] !== H || grads.shape[2] !== W) {
    throw new Error(`the explainer returned a gradient of shape [${grads.shape.join(', ')}], expected [3, ${H}, ${W}] (is children()[0] the first layer?)`);
  }

  t0 = performance.now();
  const outputs = write_outputs(item, cfg, grads, display, {
    image: item.image,
    model: ctx.name,
    method: cfg.method,
    target: { index: target_class, label: ctx.labels[target_class]! },
    predictions: ranked.slice(0, predictions_shown(ranked.length)),
  });
  t.write = performance.now() - t0;

  return {
    image: item.image,
    model: ctx.name,
    target: { index: target_class, label: ctx.labels[target_class]! },
    predictions: ranked.slice(0, predictions_shown(ranked.length)),
    outputs,
    timings_ms: t,
  };
}

interface ReportMeta {
  image: string;
  model: string;
  method: 'guided' | 'vanilla';
  target: { index: number; label: string };
  predictions: Prediction[];
}

function write_outputs(item: InputItem, cfg: RunConfig, chw: Chw, display: Image, meta: ReportMeta): string[] {
  const names = output_names(item.stem, cfg.method, cfg.npy);
  const stage = mkdtempSync(join(cfg.out, `${STAGE_PREFIX}${item.stem.replace(/[^\w.-]/g, '_').slice(0, 40)}-`));
  const moved: string[] = [];
  const grads = chw.nd;
  try {
    const strip = (n: string): string => n.replace(/\.png$/, '');
    const o = { dir: stage };
    // Save colored gradients
    viz.save_gradient_images(grads, strip(names.maps[0]!), o);
    // Convert to grayscale
    const grayscale = viz.convert_to_grayscale(grads);
    // Save grayscale gradients
    viz.save_gradient_images(grayscale, strip(names.maps[1]!), o);
    if (cfg.method === 'guided') {
      // Positive and negative saliency maps
      const [pos_sal, neg_sal] = viz.get_positive_negative_saliency(grads);
      viz.save_gradient_images(pos_sal, strip(names.maps[2]!), o);
      viz.save_gradient_images(neg_sal, strip(names.maps[3]!), o);
    }
    if (names.npy) writeFileSync(join(stage, names.npy), encode_npy(chw.data, chw.shape));

    const captions = cfg.method === 'guided' ? CAPTIONS_GUIDED : CAPTIONS_VANILLA;
    const pictures: ReportPicture[] = [
      { caption: `Input (${display.width}×${display.height}, as the network sees it)`, file: basename(item.image), png: viz.encode_png(display) },
      ...names.maps.map((n, i) => ({ caption: captions[i]!, file: n, png: new Uint8Array(readFileSync(join(stage, n))) })),
    ];
    writeFileSync(join(stage, names.report), render_report({ ...meta, pictures }));

    const all = [...names.maps, ...(names.npy ? [names.npy] : []), names.report];
    for (const n of all) {
      const dest = join(cfg.out, n);
      renameSync(join(stage, n), dest);
      moved.push(dest);
    }
    return moved;
  } catch (e) {
    for (const p of moved) {
      try {
        unlinkSync(p);
      } catch {
        // already gone
      }
    }
    throw e;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
