/**
 * gpu.js WebAssembly conv kernels vs the CPU kernels (`getKernels('cpu')`) on
 * ResNet-50 layer shapes, batch 1, float32: forward, grad input, grad weight.
 * Also the gpu.js webasm device API with its worker pool (async contract).
 *
 *   node --import tsx bench/gpujs/bench.ts [--runs 5] [--quick]
 *
 * Prints median ms and GFLOP/s (2·N·OC·OH·OW·C/groups·KH·KW flops per pass).
 */
import os from 'node:os';
import { getKernels } from '../../packages/nn/src/kernels/registry.ts';
import { makeConv2dParams } from '../../packages/nn/src/kernels/types.ts';
import type { Conv2dParams } from '../../packages/nn/src/kernels/types.ts';
import '../../packages/nn/src/kernels/gpujs/host.ts';
import { GpuDevice } from '../../packages/nn/src/kernels/gpujs/device.ts';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] ?? 5) || 5;
const quick = args.includes('--quick');

const layers: [string, Conv2dParams][] = [
  ['conv1 7x7/2 3→64 @224', makeConv2dParams({ N: 1, C: 3, H: 224, W: 224, OC: 64, KH: 7, KW: 7, strideH: 2, strideW: 2, padTop: 3, padLeft: 3 })],
  ['layer1 1x1 64→64 @56', makeConv2dParams({ N: 1, C: 64, H: 56, W: 56, OC: 64, KH: 1, KW: 1 })],
  ['layer1 3x3 64→64 @56', makeConv2dParams({ N: 1, C: 64, H: 56, W: 56, OC: 64, KH: 3, KW: 3, padTop: 1, padLeft: 1 })],
  ['layer2 3x3/2 128 @56', makeConv2dParams({ N: 1, C: 128, H: 56, W: 56, OC: 128, KH: 3, KW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1 })],
  ['layer3 1x1 1024→256 @14', makeConv2dParams({ N: 1, C: 1024, H: 14, W: 14, OC: 256, KH: 1, KW: 1 })],
  ['layer4 3x3 512→512 @7', makeConv2dParams({ N: 1, C: 512, H: 7, W: 7, OC: 512, KH: 3, KW: 3, padTop: 1, padLeft: 1 })],
];

function rnd(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(i * 12.9898) * 0.5;
  return a;
}
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

async function time(fn: () => unknown | Promise<unknown>, n: number): Promise<number> {
  await fn(); // warm-up (gpu.js compiles here)
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  return median(t);
}

const cpu = getKernels('cpu');
const wasm = getKernels('gpujs-webasm');
const dev = await GpuDevice.create({ mode: 'webasm', threads: true });

console.log(`gpu.js webasm vs CPU kernels — ${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length}, node ${process.version}, ${new Date().toISOString()}`);
console.log('median ms of', runs, 'runs (GFLOP/s); speedup = cpu / gpu.js-webasm-sync\n');
console.log('| layer | pass | cpu | gpu.js webasm (sync, 1 thread) | gpu.js webasm device (worker pool) | cpu speedup |');
console.log('|---|---|---|---|---|---|');
for (const [name, p] of quick ? layers.slice(1, 3) : layers) {
  const x = rnd(p.N * p.C * p.H * p.W), w = rnd(p.OC * (p.C / p.groups) * p.KH * p.KW), gy = rnd(p.N * p.OC * p.OH * p.OW);
  const y = new Float32Array(gy.length), gx = new Float32Array(x.length), gw = new Float32Array(w.length);
  const flops = 2 * p.N * p.OC * p.OH * p.OW * (p.C / p.groups) * p.KH * p.KW;
  const X = dev.upload(x, [p.N, p.C, p.H, p.W]), Wt = dev.upload(w, [p.OC, p.C / p.groups, p.KH, p.KW]), GY = dev.upload(gy, [p.N, p.OC, p.OH, p.OW]);
  const passes: [string, () => void, () => void, () => Promise<unknown>][] = [
    ['forward', () => cpu.conv2dForward(p, x, w, null, y), () => wasm.conv2dForward(p, x, w, null, y), () => dev.read(dev.conv2d(p, X, Wt, null))],
    ['grad input', () => cpu.conv2dBackwardInput(p, gy, w, gx), () => wasm.conv2dBackwardInput(p, gy, w, gx), () => dev.read(dev.conv2dBackwardInput(p, GY, Wt))],
    ['grad weight', () => cpu.conv2dBackwardWeight(p, x, gy, gw, null), () => wasm.conv2dBackwardWeight(p, x, gy, gw, null), () => dev.read(dev.conv2dBackwardWeight(p, X, GY))],
  ];
  for (const [pass, c, g, gd] of passes) {
    const tc = await time(c, runs);
    const tg = await time(g, Math.max(1, Math.min(runs, 3)));
    const td = await time(gd, Math.max(1, Math.min(runs, 3)));
    const gf = (ms: number): string => `${ms.toFixed(1)} (${(flops / ms / 1e6).toFixed(1)})`;
    console.log(`| ${name} | ${pass} | ${gf(tc)} | ${gf(tg)} | ${gf(td)} | ${(tg / tc).toFixed(1)}× |`);
  }
}
dev.destroy();
process.exit(0);
