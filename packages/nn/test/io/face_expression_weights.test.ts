/**
 * The real face-api face expression weights: the reader loads them exactly like
 * tfjs does, and a naive PyTorch-layout forward written from
 * src/models/FACE_EXPRESSION_NOTES.md reproduces face-api's logits (fixtures made
 * by scripts/face_expression_reference.ts), including its preprocessing.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { load_tfjs_weights, shape_size } from '../../src/io/tfjs_weights.ts';
import { naiveFaceExpressionLogits } from './naive_face_expression.ts';

const here = dirname(fileURLToPath(import.meta.url));
const nnRoot = join(here, '../..');
const manifestPath = join(nnRoot, 'node_modules/@vladmandic/face-api/model/face_expression_model-weights_manifest.json');
const fixtures = join(nnRoot, 'test/fixtures/face_expression');
const imagePath = join(nnRoot, '../../examples/AF01HAHR.png');

interface CaseRef { logits: number[]; probabilities: number[]; top: { index: number; label: string }; input_file: string }
const ref = JSON.parse(readFileSync(join(fixtures, 'reference.json'), 'utf8')) as {
  labels: string[];
  input_files: { mean_rgb: number[] };
  weights: { sums_float64: Record<string, number> };
  cases: { random: CaseRef; af01hahr: CaseRef };
};
const readF32 = (p: string): Float32Array => {
  const b = readFileSync(p);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

// [name, shape] in manifest order
function expectedSpecs(): [string, number[]][] {
  const out: [string, number[]][] = [['dense0/conv0/filters', [3, 3, 3, 32]], ['dense0/conv0/bias', [32]]];
  const chans: [string, number, number][] = [['dense0', 32, 32], ['dense1', 32, 64], ['dense2', 64, 128], ['dense3', 128, 256]];
  for (const [blk, cin, cout] of chans) {
    for (let k = 0; k < 4; k++) {
      if (blk === 'dense0' && k === 0) continue;
      const ci = k === 0 ? cin : cout;
      out.push([`${blk}/conv${k}/depthwise_filter`, [3, 3, ci, 1]], [`${blk}/conv${k}/pointwise_filter`, [1, 1, ci, cout]], [`${blk}/conv${k}/bias`, [cout]]);
    }
  }
  out.push(['fc/weights', [256, 7]], ['fc/bias', [7]]);
  return out;
}

describe('face-api face_expression_model weights', () => {
  const w = load_tfjs_weights(manifestPath);

  it('has the expected 49 names, shapes and 323,687 parameters', () => {
    expect([...w.entries()].map(([k, v]) => [k, v.shape])).toEqual(expectedSpecs());
    expect([...w.values()].reduce((s, v) => s + v.data.length, 0)).toBe(323687);
    for (const v of w.values()) expect(v.data.length).toBe(shape_size(v.shape));
  });

  it('matches tfjs-core io.decodeWeights bit for bit', async () => {
    const tf = await import('@tensorflow/tfjs');
    await tf.setBackend('cpu');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { paths: string[]; weights: Parameters<typeof tf.io.decodeWeights>[1] }[];
    const bin = readFileSync(join(dirname(manifestPath), manifest[0]!.paths[0]!));
    const theirs = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength), manifest[0]!.weights);
    expect(Object.keys(theirs)).toEqual([...w.keys()]);
    for (const [name, mine] of w) {
      const t = theirs[name]!;
      expect(t.shape).toEqual(mine.shape);
      expect(t.dataSync()).toEqual(mine.data);
    }
  });

  it('weight sums match the reference fixture', () => {
    for (const [name, v] of w) {
      const s = v.data.reduce((a, b) => a + b, 0);
      expect(s).toBeCloseTo(ref.weights.sums_float64[name]!, 4);
    }
  });

  it.each(['random', 'af01hahr'] as const)('naive PyTorch-layout forward from the notes reproduces face-api logits (%s)', (k) => {
    const c = ref.cases[k];
    const logits = naiveFaceExpressionLogits(readF32(join(fixtures, c.input_file)), w);
    logits.forEach((v, i) => expect(Math.abs(v - c.logits[i]!)).toBeLessThan(1e-4));
    const mx = Math.max(...logits);
    const e = logits.map((v) => Math.exp(v - mx));
    const z = e.reduce((a, b) => a + b, 0);
    e.forEach((v, i) => expect(Math.abs(v / z - c.probabilities[i]!)).toBeLessThan(1e-5));
  });

  it('AF01HAHR is happy', () => {
    expect(ref.labels).toEqual(['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised']);
    expect(ref.cases.af01hahr.top).toMatchObject({ index: 1, label: 'happy' });
  });

  it("face-api preprocessing from the notes (resizeBilinear without half-pixel centers, (x-mean)/255) reproduces the fixture input", () => {
    const req = createRequire(join(nnRoot, '../viz/package.json'));
    const { PNG } = req('pngjs') as { PNG: { sync: { read(b: Buffer): { width: number; height: number; data: Buffer } } } };
    const png = PNG.sync.read(readFileSync(imagePath));
    const [H, W, S] = [png.height, png.width, 112];
    expect(H).toBe(W); // square crop -> padToSquare is a no-op
    const mean = ref.input_files.mean_rgb;
    const out = new Float32Array(3 * S * S);
    const px = (y: number, x: number, c: number): number => png.data[4 * (y * W + x) + c]!;
    for (let r = 0; r < S; r++) {
      const sr = (H / S) * r;
      const r0 = Math.floor(sr), r1 = Math.min(H - 1, Math.ceil(sr)), fr = sr - r0;
      for (let q = 0; q < S; q++) {
        const sc = (W / S) * q;
        const c0 = Math.floor(sc), c1 = Math.min(W - 1, Math.ceil(sc)), fcol = sc - c0;
        for (let ch = 0; ch < 3; ch++) {
          const top = px(r0, c0, ch) + (px(r0, c1, ch) - px(r0, c0, ch)) * fcol;
          const bot = px(r1, c0, ch) + (px(r1, c1, ch) - px(r1, c0, ch)) * fcol;
          const v = Math.fround(top + (bot - top) * fr);
          out[(ch * S + r) * S + q] = Math.fround(Math.fround(v - mean[ch]!) / 255);
        }
      }
    }
    const fix = readF32(join(fixtures, ref.cases.af01hahr.input_file));
    let worst = 0;
    for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i]! - fix[i]!));
    expect(worst).toBeLessThan(1e-6);
  });
});
