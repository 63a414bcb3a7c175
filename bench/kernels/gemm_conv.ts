/**
 * GFLOP/s of the CPU kernels: sgemm on square sizes and conv2d forward /
 * backward-input / backward-weight on ResNet-50 layer shapes at 224×224.
 *
 *   node --import tsx bench/kernels/gemm_conv.ts [--backend js|wasm|wasm-mt] [--quick]
 *   node --import tsx bench/kernels/gemm_conv.ts --resnet [--rounds 7] [--configs legacy,t1,t2]
 *
 * --resnet times every distinct conv shape of torchvision's ResNet-50 at
 * 224×224 (batch 1) under several configurations — 'legacy' (explicit im2col
 * + sgemm, the pre-engine path), 't1'/'t2' (conv engine, 1 or 2 threads) —
 * interleaved round by round so machine noise hits all alike, and prints
 * per-shape GFLOP/s (min over rounds) and the whole-network sums in ms
 * (forward, backward-input, backward-weight), each shape weighted by how
 * often it occurs.
 */
import {
  availableSgemmBackends, convEngineWarm, getKernels, makeConv2dParams, setConvEngine, setConvThreads, setSgemmBackend, sgemm,
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

const convs: [string, Conv2dOptions][] = args.includes('--dw') ? [
  ['dw 3x3 256 @28', { N: 1, C: 256, H: 28, W: 28, OC: 256, KH: 3, KW: 3, padTop: 1, padLeft: 1, groups: 256 }],
  ['dw 3x3 32 @112', { N: 1, C: 32, H: 112, W: 112, OC: 32, KH: 3, KW: 3, padTop: 1, padLeft: 1, groups: 32 }],
  ['dw 3x3 s2 64 @112', { N: 1, C: 64, H: 112, W: 112, OC: 64, KH: 3, KW: 3, strideH: 2, strideW: 2, padTop: 0, padBottom: 1, padLeft: 0, padRight: 1, groups: 64 }],
] : [
  ['stem 7x7 s2 3->64 @224', { N: 1, C: 3, H: 224, W: 224, OC: 64, KH: 7, KW: 7, strideH: 2, strideW: 2, padTop: 3, padLeft: 3 }],
  ['3x3 64->64 @56', { N: 1, C: 64, H: 56, W: 56, OC: 64, KH: 3, KW: 3, padTop: 1, padLeft: 1 }],
  ['1x1 256->64 @56', { N: 1, C: 256, H: 56, W: 56, OC: 64, KH: 1, KW: 1 }],
  ['1x1 64->256 @56', { N: 1, C: 64, H: 56, W: 56, OC: 256, KH: 1, KW: 1 }],
  ['3x3 128->128 @28', { N: 1, C: 128, H: 28, W: 28, OC: 128, KH: 3, KW: 3, padTop: 1, padLeft: 1 }],
  ['3x3 512->512 @7', { N: 1, C: 512, H: 7, W: 7, OC: 512, KH: 3, KW: 3, padTop: 1, padLeft: 1 }],
  ['1x1 s2 1024->2048 @14', { N: 1, C: 1024, H: 14, W: 14, OC: 2048, KH: 1, KW: 1, strideH: 2, strideW: 2 }],
  ['dw 3x3 256 @28', { N: 1, C: 256, H: 28, W: 28, OC: 256, KH: 3, KW: 3, padTop: 1, padLeft: 1, groups: 256 }],
  ['dw 3x3 32 @112', { N: 1, C: 32, H: 112, W: 112, OC: 32, KH: 3, KW: 3, padTop: 1, padLeft: 1, groups: 32 }],
  ['dw 3x3 s2 64 @112', { N: 1, C: 64, H: 112, W: 112, OC: 64, KH: 3, KW: 3, strideH: 2, strideW: 2, padTop: 0, padBottom: 1, padLeft: 0, padRight: 1, groups: 64 }],
];

console.log(`node ${process.version}, ${process.arch}; sgemm backends: ${availableSgemmBackends().join(', ')}`);
if (args.includes('--resnet')) {
  await resnetSum();
  process.exit(0);
}
for (const backend of backends) {
  setSgemmBackend(backend);
  if (backend === 'wasm-mt') await new Promise((r) => setTimeout(r, 500)); // let the helper thread warm up
  console.log(`\n== sgemm backend: ${backend} ==`);
  for (const n of args.includes('--dw') ? [] : quick ? [256, 512] : [256, 512, 1024]) {
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

/** [name, options, count in ResNet-50] for every conv of torchvision's resnet50 at 224×224. */
function resnet50Convs(): [string, Conv2dOptions, number][] {
  const out: [string, Conv2dOptions, number][] = [];
  const add = (C: number, OC: number, H: number, k: number, s: number, count: number): void => {
    const pad = (k - 1) >> 1;
    const name = `${k}x${k}${s > 1 ? ` s${s}` : ''} ${C}->${OC} @${H}`;
    const hit = out.find((e) => e[0] === name);
    if (hit) hit[2] += count;
    else out.push([name, { N: 1, C, H, W: H, OC, KH: k, KW: k, strideH: s, strideW: s, padTop: pad, padLeft: pad }, count]);
  };
  add(3, 64, 224, 7, 2, 1);
  const stages: [number, number, number, number][] = [[64, 3, 56, 1], [128, 4, 56, 2], [256, 6, 28, 2], [512, 3, 14, 2]];
  let inC = 64;
  for (const [width, blocks, inH, stride] of stages) {
    const outC = width * 4, outH = inH / stride;
    for (let b = 0; b < blocks; b++) {
      const cin = b === 0 ? inC : outC, h = b === 0 ? inH : outH, s = b === 0 ? stride : 1;
      add(cin, width, h, 1, 1, 1);
      add(width, width, h, 3, s, 1);
      add(width, outC, outH, 1, 1, 1);
      if (b === 0) add(cin, outC, inH, 1, s, 1);
    }
    inC = outC;
  }
  return out;
}

async function resnetSum(): Promise<void> {
  const ri = args.indexOf('--rounds');
  const rounds = ri >= 0 ? Number(args[ri + 1]) : quick ? 3 : 7;
  const ci = args.indexOf('--configs');
  const configs = (ci >= 0 ? args[ci + 1]! : 'legacy,t1,t2').split(',');
  setSgemmBackend('wasm');
  await convEngineWarm();
  const apply = (c: string): void => {
    setConvEngine(c !== 'legacy');
    setConvThreads(c === 't2' ? 2 : 1);
  };
  const k = getKernels('cpu');
  const passes = ['fwd', 'bwd-in', 'bwd-w'] as const;
  const sums = new Map<string, number[]>(configs.map((c) => [c, [0, 0, 0]]));
  let totalFlops = 0;
  console.log(`ResNet-50 conv layers @224, batch 1; min of ${rounds} interleaved rounds; GFLOP/s per config (${configs.join(' / ')})`);
  for (const [name, o, count] of resnet50Convs()) {
    const p = makeConv2dParams(o);
    const x = rand(p.N * p.C * p.H * p.W), w = rand(p.OC * (p.C / p.groups) * p.KH * p.KW);
    const y = new Float32Array(p.N * p.OC * p.OH * p.OW), gy = rand(y.length);
    const gx = new Float32Array(x.length), gw = new Float32Array(w.length);
    const flops = 2 * p.N * p.OC * p.OH * p.OW * (p.C / p.groups) * p.KH * p.KW;
    totalFlops += flops * count;
    const fns = [
      () => k.conv2dForward(p, x, w, null, y),
      () => k.conv2dBackwardInput(p, gy, w, gx),
      () => k.conv2dBackwardWeight(p, x, gy, gw, null),
    ];
    const best = configs.map(() => [Infinity, Infinity, Infinity]);
    for (let r = 0; r < rounds + 2; r++) {
      configs.forEach((c, ci2) => {
        apply(c);
        fns.forEach((f, fi) => {
          const s = performance.now();
          f();
          const t = performance.now() - s;
          if (r >= 2) best[ci2]![fi] = Math.min(best[ci2]![fi]!, t); // first 2 rounds warm up
        });
      });
    }
    const cells = passes.map((ps, fi) => `${ps} ${configs.map((_, ci2) => (flops / best[ci2]![fi]! / 1e6).toFixed(1).padStart(5)).join('/')}`);
    console.log(`${name.padEnd(22)} x${String(count).padEnd(2)} ${cells.join('  ')}`);
    configs.forEach((c, ci2) => passes.forEach((_, fi) => { sums.get(c)![fi] += best[ci2]![fi]! * count; }));
  }
  console.log(`\nwhole-network sums (ms), ${(totalFlops / 1e9).toFixed(2)} GFLOP per pass:`);
  for (const c of configs) {
    const [f, bi2, bw] = sums.get(c)!;
    console.log(`${c.padEnd(7)} fwd ${f!.toFixed(1).padStart(6)}  bwd-in ${bi2!.toFixed(1).padStart(6)}  bwd-w ${bw!.toFixed(1).padStart(6)}  ` +
      `fwd+bwd-in ${(f! + bi2!).toFixed(1).padStart(6)}  all three ${(f! + bi2! + bw!).toFixed(1).padStart(6)}`);
  }
}
