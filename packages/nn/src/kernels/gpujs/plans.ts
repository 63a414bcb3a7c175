/** Output grids and constants of each gpu.js kernel, from the CPU kernels' parameter types. */
import type { AdaptivePool2dParams, AvgPool2dOptions, Conv2dParams, LinearParams, Pool2dParams } from '../types.ts';
import { checkSize } from './cache.ts';
import type { Constants } from './cache.ts';
import type { KernelOp } from './sources.ts';

export interface Plan {
  op: KernelOp;
  output: number[];
  constants: Constants;
  /** Number of output values. */
  size: number;
  /**
   * Scalar kernel arguments, passed after the tensor arguments (uniform f32 on
   * webgpu): values that vary per call without a new compiled kernel and may
   * be ±Infinity or NaN. Absent: none.
   */
  scalars?: number[];
}

function plan(op: KernelOp, output: number[], constants: Constants, scalars?: number[]): Plan {
  const size = output.reduce((a, b) => a * b, 1);
  checkSize(`${op} output`, size);
  return scalars === undefined ? { op, output, constants, size } : { op, output, constants, size, scalars };
}

/** Same-shape elementwise kernels (one input or two). */
export type ElementwiseOp = 'relu' | 'reluBackward' | 'reluBackwardGuided' | 'add' | 'sub' | 'mul' | 'div' | 'neg' | 'copyDevice';

/** Tensor-scalar ops: x ∘ s ('rsub': s − x, 'rdiv': s / x). */
export type ScalarOp = 'add' | 'mul' | 'rsub' | 'div' | 'rdiv';

const SCALAR_KERNEL = {
  add: 'scalarAdd', mul: 'scalarMul', rsub: 'scalarRsub', div: 'scalarDiv', rdiv: 'scalarRdiv',
} as const satisfies Record<ScalarOp, KernelOp>;

function convConstants(p: Conv2dParams): Constants {
  checkSize('conv2d input', p.N * p.C * p.H * p.W);
  checkSize('conv2d output', p.N * p.OC * p.OH * p.OW);
  return {
    N: p.N, C: p.C, H: p.H, W: p.W, OC: p.OC, KH: p.KH, KW: p.KW, OH: p.OH, OW: p.OW,
    Cg: p.C / p.groups, OCg: p.OC / p.groups,
    sH: p.strideH, sW: p.strideW, pT: p.padTop, pL: p.padLeft, dH: p.dilationH, dW: p.dilationW,
  };
}

export const plans = {
  conv2dForward: (p: Conv2dParams): Plan => plan('conv2dForward', [p.OW, p.OH, p.N * p.OC], convConstants(p)),
  conv2dBackwardInput: (p: Conv2dParams): Plan => plan('conv2dBackwardInput', [p.W, p.H, p.N * p.C], convConstants(p)),
  conv2dBackwardWeight: (p: Conv2dParams): Plan =>
    plan('conv2dBackwardWeight', [p.KW, p.KH, p.OC * (p.C / p.groups)], convConstants(p)),
  conv2dBackwardBias: (p: Conv2dParams): Plan =>
    plan('conv2dBackwardBias', [p.OC], { N: p.N, OC: p.OC, OHW: p.OH * p.OW }),

  linearForward: (p: LinearParams): Plan => plan('linearForward', [p.OUT, p.N], { K: p.K }),
  linearBackwardInput: (p: LinearParams): Plan => plan('linearBackwardInput', [p.K, p.N], { K: p.K, OUT: p.OUT }),
  linearBackwardWeight: (p: LinearParams): Plan => plan('linearBackwardWeight', [p.K, p.OUT], { N: p.N, K: p.K, OUT: p.OUT }),
  linearBackwardBias: (p: LinearParams): Plan => plan('linearBackwardBias', [p.OUT], { N: p.N, OUT: p.OUT }),
  transpose2d: (R: number, C: number): Plan => plan('transpose2d', [R, C], { C }),

  elementwise: (op: ElementwiseOp, size: number): Plan => plan(op, [size], {}),
  scalar: (op: ScalarOp, size: number, s: number): Plan => {
    const k: KernelOp | undefined = Object.hasOwn(SCALAR_KERNEL, op) ? SCALAR_KERNEL[op] : undefined;
    if (k === undefined) throw new RangeError(`scalarOp: unknown op '${String(op)}' (expected ${Object.keys(SCALAR_KERNEL).join(', ')})`);
    return plan(k, [size], {}, [s]);
  },
  /** null bounds become ∓Infinity (a scalar argument holds them exactly). */
  clamp: (size: number, lo: number | null, hi: number | null): Plan => plan('clamp', [size], {}, [lo ?? -Infinity, hi ?? Infinity]),
  mask: (size: number, lo: number, hi: number, inclusive: boolean): Plan =>
    inclusive ? plan('maskInclusive', [size], {}, [lo, hi]) : plan('maskGreater', [size], {}, [lo]),
  fill: (size: number, value: number): Plan => plan('fill', [size], {}, [value]),

  maxPool2d: (op: 'maxPool2dForward' | 'maxPool2dArgmax', p: Pool2dParams): Plan =>
    plan(op, [p.OW, p.OH, p.N * p.C], poolConstants(p)),
  maxPool2dBackward: (p: Pool2dParams): Plan => plan('maxPool2dBackward', [p.W, p.H, p.N * p.C], poolConstants(p)),
  avgPool2dForward: (p: Pool2dParams, o: AvgPool2dOptions): Plan =>
    plan('avgPool2dForward', [p.OW, p.OH, p.N * p.C], avgConstants(p, o)),
  avgPool2dBackward: (p: Pool2dParams, o: AvgPool2dOptions): Plan =>
    plan('avgPool2dBackward', [p.W, p.H, p.N * p.C], avgConstants(p, o)),
  adaptiveAvgPool2dForward: (p: AdaptivePool2dParams): Plan =>
    plan('adaptiveAvgPool2dForward', [p.OW, p.OH, p.N * p.C], adaptiveConstants(p)),
  adaptiveAvgPool2dBackward: (p: AdaptivePool2dParams): Plan =>
    plan('adaptiveAvgPool2dBackward', [p.W, p.H, p.N * p.C], adaptiveConstants(p)),

  channelAffine: (N: number, C: number, H: number, W: number): Plan => plan('channelAffine', [W, H, N * C], { C, H, W }),
  channelScale: (N: number, C: number, H: number, W: number): Plan => plan('channelScale', [W, H, N * C], { C, H, W }),
  channelSum: (N: number, C: number, H: number, W: number): Plan => plan('channelSum', [C], { N, C, HW: H * W }),
  channelDot: (N: number, C: number, H: number, W: number): Plan => plan('channelDot', [C], { N, C, HW: H * W }),

  pad2d: (N: number, C: number, H: number, W: number, pad: readonly [number, number, number, number], value: number): Plan => {
    const [l, r, t, b] = pad;
    const OH = H + t + b, OW = W + l + r;
    if (OH <= 0 || OW <= 0) throw new RangeError(`pad2d: output size ${OH}x${OW} must be positive`);
    return plan('pad2d', [OW, OH, N * C], { H, W, pT: t, pL: l, VALUE: value });
  },
};

function poolConstants(p: Pool2dParams): Constants {
  checkSize('pool2d input', p.N * p.C * p.H * p.W);
  return {
    H: p.H, W: p.W, HW: p.H * p.W, KH: p.KH, KW: p.KW, OH: p.OH, OW: p.OW, OHW: p.OH * p.OW,
    sH: p.strideH, sW: p.strideW, pH: p.padH, pW: p.padW, dH: p.dilationH, dW: p.dilationW,
  };
}

function avgConstants(p: Pool2dParams, o: AvgPool2dOptions): Constants {
  if (p.dilationH !== 1 || p.dilationW !== 1) throw new RangeError('avg_pool2d: dilation must be 1');
  return { ...poolConstants(p), CIP: o.countIncludePad ? 1 : 0, DIV: o.divisorOverride ?? 0 };
}

function adaptiveConstants(p: AdaptivePool2dParams): Constants {
  checkSize('adaptive_avg_pool2d input', p.N * p.C * p.H * p.W);
  if (p.OH <= 0 || p.OW <= 0) throw new RangeError('adaptive_avg_pool2d: output size must be positive');
  let MKH = 0, MKW = 0;
  for (let i = 0; i < p.OH; i++) MKH = Math.max(MKH, Math.ceil(((i + 1) * p.H) / p.OH) - Math.floor((i * p.H) / p.OH));
  for (let i = 0; i < p.OW; i++) MKW = Math.max(MKW, Math.ceil(((i + 1) * p.W) / p.OW) - Math.floor((i * p.W) / p.OW));
  return { H: p.H, W: p.W, HW: p.H * p.W, OH: p.OH, OW: p.OW, OHW: p.OH * p.OW, MKH, MKW };
}

/** Batch-norm inference folded per channel, exactly as the CPU kernel does it (in f64). */
export function foldBatchNorm(
  C: number, eps: number, runningMean: Float32Array, runningVar: Float32Array,
  weight: Float32Array | null, bias: Float32Array | null,
): { scale: Float32Array; shift: Float32Array; invstd: Float32Array } {
  const scale = new Float32Array(C), shift = new Float32Array(C), invstd = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const is = 1 / Math.sqrt(runningVar[c]! + eps);
    const sc = (weight === null ? 1 : weight[c]!) * is;
    invstd[c] = is;
    scale[c] = sc;
    shift[c] = (bias === null ? 0 : bias[c]!) - runningMean[c]! * sc;
  }
  return { scale, shift, invstd };
}
