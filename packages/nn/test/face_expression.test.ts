/**
 * models.face_expression(): face-api's facial expression CNN as a gradlens module tree.
 * Checked against face-api's own tfjs forward (fixtures from scripts/face_expression_reference.ts)
 * and tfjs's image ops, and for the structure the seed's GuidedBackprop relies on.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';

import {
  face_expression,
  face_expression_manifest_path,
  face_expression_resize,
  FACE_EXPRESSION_LABELS,
  FACE_EXPRESSION_MEAN_RGB,
  preprocess_face_expression,
  preprocess_face_expression_array,
} from '../src/models/face_expression.ts';
import type { ImageLike } from '../src/models/face_expression.ts';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, 'fixtures/face_expression');
const examplePng = join(here, '../../../examples/AF01HAHR.png');

interface CaseRef { logits: number[]; probabilities: number[]; top: { index: number; label: string }; input_file: string }
const ref = JSON.parse(readFileSync(join(fixtures, 'reference.json'), 'utf8')) as {
  labels: string[];
  cases: { random: CaseRef; af01hahr: CaseRef };
};
const readF32 = (p: string): Float32Array => {
  const b = readFileSync(p);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const input = (data: Float32Array): Tensor => {
  const t = torch.zeros([1, 3, 112, 112]);
  (t.numpy().data as Float32Array).set(data);
  return t;
};

/** An H×W×C uint8 image as ImageLike (what viz's read_image returns). */
function image(h: number, w: number, c: number, px: Uint8Array): ImageLike {
  return { width: w, height: h, data: { shape: [h, w, c], get: (y: number, x: number, k: number) => px[(y * w + x) * c + k]! } };
}

function readPng(path: string): ImageLike {
  const req = createRequire(join(here, '../../viz/package.json'));
  const { PNG } = req('pngjs') as { PNG: { sync: { read(b: Buffer): { width: number; height: number; data: Buffer } } } };
  const png = PNG.sync.read(readFileSync(path));
  return image(png.height, png.width, 4, new Uint8Array(png.data)); // RGBA; alpha is dropped
}

describe('models.face_expression', () => {
  const model = face_expression();

  it('structure: first child is the stride-2 conv with [0,1,0,1] padding, 16 distinct ReLUs, 323,687 parameters', () => {
    const first = model.children()[0]!;
    expect(first._get_name()).toBe('Conv2d');
    expect(first).toBe(model.conv0);
    expect(model.conv0.stride).toEqual([2, 2]);
    expect(model.conv0.padding).toEqual([0, 1, 0, 1]);
    const relus = model.modules().filter((m) => m._get_name() === 'ReLU');
    expect(relus).toHaveLength(16);
    expect(new Set(relus).size).toBe(16);
    expect(model.parameters().reduce((s, p) => s + p.numel(), 0)).toBe(323687);
    expect(model.training).toBe(false);
    expect(FACE_EXPRESSION_LABELS).toEqual(ref.labels);
  });

  it.each(['random', 'af01hahr'] as const)("logits within 1e-4 of face-api's tfjs forward (%s)", (k) => {
    const c = ref.cases[k];
    const logits = torch.no_grad(() => model(input(readF32(join(fixtures, c.input_file))))).reshape([-1]).tolist() as number[];
    expect(logits).toHaveLength(7);
    logits.forEach((v, i) => expect(Math.abs(v - c.logits[i]!)).toBeLessThan(1e-4));
    const probs = torch.softmax(torch.tensor([logits]), 1).reshape([-1]).tolist() as number[];
    probs.forEach((v, i) => expect(Math.abs(v - c.probabilities[i]!)).toBeLessThan(1e-5));
  });

  it('preprocessing of examples/AF01HAHR.png equals the fixture input within 1e-6, and the top prediction is happy', () => {
    const x = preprocess_face_expression(readPng(examplePng));
    expect(x.shape).toEqual([1, 3, 112, 112]);
    expect(x.requires_grad).toBe(true);
    const mine = x.detach().numpy().data as Float32Array;
    const fix = readF32(join(fixtures, ref.cases.af01hahr.input_file));
    let worst = 0;
    for (let i = 0; i < fix.length; i++) worst = Math.max(worst, Math.abs(mine[i]! - fix[i]!));
    expect(worst).toBeLessThan(1e-6);
    const logits = torch.no_grad(() => model(x)).reshape([-1]).tolist() as number[];
    const top = logits.indexOf(Math.max(...logits));
    expect(FACE_EXPRESSION_LABELS[top]).toBe('happy');
  });

  it('pad-to-square + legacy bilinear resize match tfjs for non-square, gray, up- and down-scaled images', async () => {
    const tf = await import('@tensorflow/tfjs');
    await tf.setBackend('cpu');
    let s = 12345;
    const rnd = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 16) & 255;
    for (const [h, w, c] of [[37, 80, 3], [150, 61, 3], [112, 113, 3], [20, 20, 1], [300, 200, 4]] as const) {
      const px = Uint8Array.from({ length: h * w * c }, rnd);
      const mine = preprocess_face_expression_array(image(h, w, c, px));
      // face-api: padToSquare(isCenterImage) + resizeBilinear(alignCorners=false, halfPixelCenters=false) + normalize / 255
      const theirs = tf.tidy(() => {
        let t = tf.tensor3d(px, [h, w, c], 'int32');
        t = c === 1 ? tf.tile(t, [1, 1, 3]) : c === 4 ? tf.slice(t, [0, 0, 0], [h, w, 3]) : t;
        let x = tf.cast(tf.expandDims(t), 'float32') as import('@tensorflow/tfjs').Tensor4D;
        const diff = Math.abs(h - w);
        if (diff > 0) {
          const axis = h > w ? 2 : 1;
          const padShape = (n: number): number[] => x.shape.map((d, i) => (i === axis ? n : d));
          const app = Math.round(diff * 0.5);
          const parts = [tf.zeros(padShape(diff - app)), x, tf.zeros(padShape(app))].filter((p) => p.shape[axis]! > 0);
          x = tf.concat(parts as import('@tensorflow/tfjs').Tensor4D[], axis);
        }
        if (x.shape[1] !== 112 || x.shape[2] !== 112) x = tf.image.resizeBilinear(x, [112, 112], false, false);
        const mean = tf.tensor1d([...FACE_EXPRESSION_MEAN_RGB], 'float32');
        return tf.transpose(tf.div(tf.sub(x, mean), 255), [0, 3, 1, 2]).dataSync() as Float32Array;
      });
      let worst = 0;
      for (let i = 0; i < theirs.length; i++) worst = Math.max(worst, Math.abs(mine[i]! - theirs[i]!));
      expect(worst, `${h}x${w}x${c}`).toBeLessThan(1e-6);
    }
    // padding is zero before normalization: a white 10x30 image has black bands top and bottom
    const white = face_expression_resize(image(10, 30, 3, new Uint8Array(10 * 30 * 3).fill(255)), 30);
    expect(white[0]).toBe(0); // row 0 is padding (10 rows before, 10 after)
    expect(white[(15 * 30 + 15) * 3]).toBe(255);
  });

  it("the seed's hooks: a legacy backward hook on children()[0] sees the input gradient; ReLU hooks see (grad_in,)", () => {
    const m = face_expression();
    let first: (Tensor | null)[] | null = null;
    m.children()[0]!.register_backward_hook((_mod, grad_in) => {
      first = grad_in;
    });
    let reluCalls = 0;
    for (const mod of m.modules()) {
      if (mod._get_name() === 'ReLU') {
        mod.register_backward_hook((_mod, grad_in) => {
          reluCalls++;
          expect(grad_in).toHaveLength(1);
        });
      }
    }
    const x = input(readF32(join(fixtures, ref.cases.af01hahr.input_file))).requires_grad_(true);
    const out = m(x);
    m.zero_grad();
    const one_hot = torch.zeros([1, 7]);
    torch.setitem(one_hot, [0, 1], 1);
    out.backward(one_hot);
    expect(reluCalls).toBe(16);
    const g = (first as unknown as (Tensor | null)[])[0]!;
    expect(g.shape).toEqual([1, 3, 112, 112]);
    const a = g.detach().numpy().data as Float32Array;
    const b = x.grad!.detach().numpy().data as Float32Array;
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    expect(worst).toBe(0);
  });

  it('loads an explicit manifest path, and rejects weights of another model', () => {
    const manifest = face_expression_manifest_path();
    expect(manifest).toMatch(/@vladmandic[\\/]face-api[\\/]model[\\/]face_expression_model-weights_manifest\.json$/);
    expect(() => face_expression({ manifest })).not.toThrow();
    const other = join(dirname(manifest), 'age_gender_model-weights_manifest.json');
    expect(() => face_expression({ manifest: other })).toThrow(/face_expression weights .*(missing tensor|has shape|unexpected)/);
    expect(() => face_expression({ manifest: join(dirname(manifest), 'nope.json') })).toThrow(/manifest file not found/);
  });
});
