/**
 * GFLOP/s of the CPU kernels: sgemm on square sizes and conv2d forward /
 * backward-input / backward-weight on ResNet-50 layer shapes at 224×224.
 *
 *   node --import tsx bench/kernels/gemm_conv.ts [--backend js|wasm] [--quick]
 */
import {
  availableSgemmBackends, getKernels, makeConv2dParams, setSgemmBackend, sgemm,
} from '../../packages/nn/src/kernels/index.ts';
import type { Conv2dOptions, SgemmBackend } from '../../packages/nn/src/kernels/index.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const bi = args.indexOf('--backend');
const backends: SgemmBackend[] = bi >= 0 ? [args[bi + 1] as SgemmBackend] : availableSgemmBackends();

function rand(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

/** Best-of and median seconds of f over enough repetitions. */
function time(f: () => void, minTime = quick ? 0.2 : 0.6): { best: number; median: number } {
  for (let i = 0; i < 3; i++) f(); // warm-up (JIT + wasm tier-up, workspace growth)
  const ts: number[] = [];
  const t0 = performance.now();
  while (ts.length < 3 || (performance.now() - t0 < minTime * 1000 && ts.length < 50)) {
    const s = performance.now();
    f();
    ts.push((performance.now() - s) / 1000);
  }
  ts.sort((a, b) => a - b);
  return { best: ts[0]!, median: ts[Math.floor(ts.length / 2)]! };
}

const fmt = (flops: number, t: { best: number; median: number }): string =>
  `${(flops / t.median / 1e9).toFixed(2).padStart(6)} GFLOP/s (best ${(flops / t.best / 1e9).toFixed(2)}, median ${(t.median * 1000).toFixed(1)} ms)`;

const convs: [string, Conv2dOptions][] = [
  ['stem 7x7 s2 3->64 @224', { N: 1, C: 3, H: 224, W: 224, OC: 64, KH: 7, KW: 7, strideH: 2, strideW: 2, padTop: 3, padLeft: 3 }],
  ['3x3 64->64 @56', { N: 1, C: 64, H: 56, W: 56, OC: 64, KH: 3, KW: 3, padTop: 1, padLeft: 1 }],
  ['1x1 256->64 @56', { N: 1, C: 256, H: 56, W: 56, OC: 64, KH: 1, KW: 1 }],
  ['1x1 64->256 @56', { N: 1, C: 64, H: 56, W: 56, OC: 256, KH: 1, KW: 1 }],
  ['3x3 128->128 @28', { N: 1, C: 128, H: 28, W: 28, OC: 128, KH: 3, KW: 3, padTop: 1, padLeft: 1 }],
  ['3x3 512->512 @7', { N: 1, C: 512, H: 7, W: 7, OC: 512, KH: 3, KW: 3, padTop: 1, padLeft: 1 }],
  ['1x1 s2 1024->2048 @14', { N: 1, C: 1024, H: 14, W: 14, OC: 2048, KH: 1, KW: 1, strideH: 2, strideW: 2 }],
  ['dw 3x3 256 @28', { N: 1, C: 256, H: 28, W: 28, OC: 256, KH: 3, KW: 3, padTop: 1, padLeft: 1, groups: 256 }],
];

console.log(`node ${process.version}, ${process.arch}; sgemm backends: ${availableSgemmBackends().join(', ')}`);
for (const backend of backends) {
  setSgemmBackend(backend);
  if (backend === 'wasm-mt') await new Promise((r) => setTimeout(r, 500)); // let the helper thread warm up
  console.log(`\n== sgemm backend: ${backend} ==`);
  for (const n of quick ? [256, 512] : [256, 512, 1024]) {
    const A = rand(n * n), B = rand(n * n), C = new Float32Array(n * n);
    for (const [tA, tB] of [[false, false], [true, false], [false, true]] as const) {
      const t = time(() => sgemm(tA, tB, n, n, n, 1, A, 0, n, B, 0, n, 0, C, 0, n));
      console.log(`sgemm ${n}^3 ${tA ? 'T' : 'N'}${tB ? 'T' : 'N'}`.padEnd(34), fmt(2 * n ** 3, t));
    }
  }
  const k = getKernels('cpu');
  for (const [name, o] of convs) {
    const p = makeConv2dParams(o);
    const x = rand(p.N * p.C * p.H * p.W), w = rand(p.OC * (p.C / p.groups) * p.KH * p.KW), b = rand(p.OC);
    const y = new Float32Array(p.N * p.OC * p.OH * p.OW), gy = rand(y.length);
    const gx = new Float32Array(x.length), gw = new Float32Array(w.length), gb = new Float32Array(p.OC);
    const flops = 2 * p.N * p.OC * p.OH * p.OW * (p.C / p.groups) * p.KH * p.KW;
    console.log(`conv ${name} fwd`.padEnd(34), fmt(flops, time(() => k.conv2dForward(p, x, w, b, y))));
    console.log(`conv ${name} bwd-in`.padEnd(34), fmt(flops, time(() => k.conv2dBackwardInput(p, gy, w, gx))));
    console.log(`conv ${name} bwd-w`.padEnd(34), fmt(flops, time(() => k.conv2dBackwardWeight(p, x, gy, gw, gb))));
  }
}
