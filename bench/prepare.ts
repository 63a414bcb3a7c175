/**
 * The bench cache (bench/.cache/, git-ignored), made once and reused:
 *  - `<model>.safetensors`: torchvision weights from packages/nn/scripts/export_torchvision.py
 *    (torch init, seed 0), and face_expression converted from @vladmandic/face-api's tfjs
 *    weights to PyTorch layouts (keys: dense<b>.conv0.{weight,bias} for the first conv,
 *    dense<b>.conv<k>.{depthwise.weight,pointwise.weight,pointwise.bias}, fc.{weight,bias}).
 *  - `resnet50.pt`: the same ResNet-50 state dict as torch.save writes it (for the one-image
 *    PyTorch script, which loads a state dict the way a PyTorch user does).
 *  - `input_<model>.f32`: the deterministic 1×3×S×S input every peer reads.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import {
  CACHE, MODELS, OUT_DIR, REPO, inputPath, makeInput, weightsPath, writeF32, writeSafetensors,
} from './lib.ts';
import type { ModelName } from './lib.ts';

export const TORCH_PYTHON = '/usr/bin/python3';
export const FACE_MANIFEST = join(REPO, 'packages/nn/node_modules/@vladmandic/face-api/model/face_expression_model-weights_manifest.json');

export function torchAvailable(): string | null {
  if (!existsSync(TORCH_PYTHON)) return `${TORCH_PYTHON} not found`;
  const r = spawnSync(TORCH_PYTHON, ['-c', 'import torch, torchvision; print(torch.__version__, torchvision.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? null : `torch/torchvision not importable by ${TORCH_PYTHON}: ${(r.stderr || '').trim().split('\n').pop()}`;
}

async function faceExpressionWeights(out: string): Promise<void> {
  const io = await import('../packages/nn/src/io/tfjs_weights.ts');
  const w = io.load_tfjs_weights(FACE_MANIFEST);
  const get = (k: string) => { const v = w.get(k); if (!v) throw new Error(`face-api weights: ${k} missing`); return v; };
  const t = new Map<string, { shape: number[]; data: Float32Array }>();
  const put = (k: string, v: { shape: readonly number[]; data: Float32Array }): void => { t.set(k, { shape: [...v.shape], data: v.data }); };
  put('dense0.conv0.weight', io.tfjs_conv_to_torch(get('dense0/conv0/filters')));
  put('dense0.conv0.bias', get('dense0/conv0/bias'));
  for (let b = 0; b < 4; b++) {
    for (let k = b === 0 ? 1 : 0; k < 4; k++) {
      const p = `dense${b}/conv${k}`;
      put(`dense${b}.conv${k}.depthwise.weight`, io.tfjs_depthwise_to_torch(get(`${p}/depthwise_filter`)));
      put(`dense${b}.conv${k}.pointwise.weight`, io.tfjs_conv_to_torch(get(`${p}/pointwise_filter`)));
      put(`dense${b}.conv${k}.pointwise.bias`, get(`${p}/bias`));
    }
  }
  put('fc.weight', io.tfjs_dense_to_torch(get('fc/weights')));
  put('fc.bias', get('fc/bias'));
  writeSafetensors(out, t, { format: 'pt', model: 'face_expression', source: '@vladmandic/face-api face_expression_model (uint8-dequantized)' });
}

/** Makes whatever is missing; returns one line per thing made or a reason it could not be. */
export async function prepareCache(models: ModelName[], log: (s: string) => void): Promise<Map<ModelName, string | null>> {
  mkdirSync(OUT_DIR, { recursive: true });
  const problems = new Map<ModelName, string | null>();
  const torchMissing = torchAvailable();
  for (const m of models) {
    const ip = inputPath(m);
    if (!existsSync(ip)) writeF32(ip, makeInput(MODELS[m]));
    const wp = weightsPath(m);
    if (existsSync(wp)) { problems.set(m, null); continue; }
    const t0 = performance.now();
    if (m === 'face_expression') {
      await faceExpressionWeights(wp);
    } else {
      if (torchMissing) { problems.set(m, `cannot export ${m} weights: ${torchMissing}`); continue; }
      const r = spawnSync(TORCH_PYTHON, [join(REPO, 'packages/nn/scripts/export_torchvision.py'), '--model', m,
        '--num-classes', String(MODELS[m].classes), '--seed', '0', '--out', wp], { encoding: 'utf8' });
      if (r.status !== 0) { problems.set(m, `export_torchvision.py failed for ${m}: ${r.stderr.trim().split('\n').pop()}`); continue; }
    }
    log(`  made ${wp.replace(`${REPO}/`, '')} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    problems.set(m, null);
  }
  return problems;
}

/** bench/.cache/resnet50.pt (torch.save of the state dict in resnet50.safetensors). */
export function ensureTorchStateDict(log: (s: string) => void): string | null {
  const pt = join(CACHE, 'resnet50.pt');
  if (existsSync(pt)) return pt;
  const code = [
    'import sys, torch',
    `sys.path.insert(0, ${JSON.stringify(join(REPO, 'packages/nn/scripts'))})`,
    'from export_torchvision import load_safetensors_np',
    'sd = {k: torch.from_numpy(v.copy()) for k, v in load_safetensors_np(sys.argv[1]).items()}',
    'torch.save(sd, sys.argv[2])',
  ].join('\n');
  const r = spawnSync(TORCH_PYTHON, ['-c', code, weightsPath('resnet50'), pt], { encoding: 'utf8' });
  if (r.status !== 0) { log(`  could not write ${pt}: ${r.stderr.trim().split('\n').pop()}`); return null; }
  log(`  made ${pt.replace(`${REPO}/`, '')}`);
  return pt;
}
