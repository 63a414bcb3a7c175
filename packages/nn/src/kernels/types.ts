/**
 * Kernel interface for gradlens nn layers.
 *
 * Conventions shared by every kernel:
 * - Tensors are float32, NCHW, C-contiguous, passed as `Float32Array` views
 *   whose element 0 is the tensor's element 0.
 * - Outputs are allocated by the caller. Kernels overwrite their outputs
 *   (they never accumulate into them) unless documented otherwise.
 * - Kernels never allocate per call except by growing reusable scratch
 *   buffers (see `workspace.ts`).
 */

/** Parameters of a 2-D convolution (cross-correlation, like PyTorch). */
export interface Conv2dParams {
  readonly N: number;
  readonly C: number;
  readonly H: number;
  readonly W: number;
  readonly OC: number;
  readonly KH: number;
  readonly KW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padTop: number;
  readonly padBottom: number;
  readonly padLeft: number;
  readonly padRight: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly groups: number;
  readonly OH: number;
  readonly OW: number;
}

/** Output length of a convolution along one spatial axis (floor rule). */
export function conv2dOutputSize(
  inSize: number,
  kernel: number,
  stride = 1,
  padBefore = 0,
  padAfter = padBefore,
  dilation = 1,
): number {
  const eff = dilation * (kernel - 1) + 1;
  const span = inSize + padBefore + padAfter - eff;
  if (span < 0) return 0;
  return Math.floor(span / stride) + 1;
}

/** Options accepted by {@link makeConv2dParams}; omitted fields take PyTorch's defaults. */
export interface Conv2dOptions {
  N: number;
  C: number;
  H: number;
  W: number;
  OC: number;
  KH: number;
  KW: number;
  strideH?: number;
  strideW?: number;
  padTop?: number;
  padBottom?: number;
  padLeft?: number;
  padRight?: number;
  dilationH?: number;
  dilationW?: number;
  groups?: number;
}

/** Fills defaults, computes OH/OW and validates a {@link Conv2dParams}. */
export function makeConv2dParams(o: Conv2dOptions): Conv2dParams {
  const strideH = o.strideH ?? 1;
  const strideW = o.strideW ?? 1;
  const padTop = o.padTop ?? 0;
  const padBottom = o.padBottom ?? padTop;
  const padLeft = o.padLeft ?? 0;
  const padRight = o.padRight ?? padLeft;
  const dilationH = o.dilationH ?? 1;
  const dilationW = o.dilationW ?? 1;
  const groups = o.groups ?? 1;
  const p: Conv2dParams = {
    N: o.N, C: o.C, H: o.H, W: o.W, OC: o.OC, KH: o.KH, KW: o.KW,
    strideH, strideW, padTop, padBottom, padLeft, padRight, dilationH, dilationW, groups,
    OH: conv2dOutputSize(o.H, o.KH, strideH, padTop, padBottom, dilationH),
    OW: conv2dOutputSize(o.W, o.KW, strideW, padLeft, padRight, dilationW),
  };
  validateConv2dParams(p);
  return p;
}

/**
 * 'same' padding as TensorFlow computes it: total padding
 * max((ceil(in/stride)-1)*stride + (k-1)*dilation + 1 - in, 0), with the
 * smaller half before and the larger half after (bottom/right).
 */
export function samePadding(inSize: number, kernel: number, stride = 1, dilation = 1): [before: number, after: number] {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - inSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

export function validateConv2dParams(p: Conv2dParams): void {
  const ints: (keyof Conv2dParams)[] = [
    'N', 'C', 'H', 'W', 'OC', 'KH', 'KW', 'strideH', 'strideW', 'padTop', 'padBottom', 'padLeft',
    'padRight', 'dilationH', 'dilationW', 'groups', 'OH', 'OW',
  ];
  for (const k of ints) {
    const v = p[k];
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`conv2d: ${k} must be a non-negative integer, got ${v}`);
  }
  for (const k of ['KH', 'KW', 'strideH', 'strideW', 'dilationH', 'dilationW', 'groups'] as const) {
    if (p[k] < 1) throw new RangeError(`conv2d: ${k} must be >= 1, got ${p[k]}`);
  }
  if (p.C % p.groups !== 0) throw new RangeError(`conv2d: C=${p.C} not divisible by groups=${p.groups}`);
  if (p.OC % p.groups !== 0) throw new RangeError(`conv2d: OC=${p.OC} not divisible by groups=${p.groups}`);
  const oh = conv2dOutputSize(p.H, p.KH, p.strideH, p.padTop, p.padBottom, p.dilationH);
  const ow = conv2dOutputSize(p.W, p.KW, p.strideW, p.padLeft, p.padRight, p.dilationW);
  if (oh !== p.OH || ow !== p.OW) {
    throw new RangeError(`conv2d: OH/OW (${p.OH}x${p.OW}) do not match the geometry (${oh}x${ow})`);
  }
}

/**
 * Convolution kernels. Weight layout is PyTorch's [OC, C/groups, KH, KW];
 * x is [N, C, H, W]; out/gradOut are [N, OC, OH, OW]; bias is [OC].
 */
export interface Conv2dKernels {
  conv2dForward(p: Conv2dParams, x: Float32Array, w: Float32Array, bias: Float32Array | null, out: Float32Array): void;
  /** Overwrites gradX [N, C, H, W]. */
  conv2dBackwardInput(p: Conv2dParams, gradOut: Float32Array, w: Float32Array, gradX: Float32Array): void;
  /** Overwrites gradW [OC, C/groups, KH, KW] and gradBias [OC]; pass null to skip either. */
  conv2dBackwardWeight(
    p: Conv2dParams,
    x: Float32Array,
    gradOut: Float32Array,
    gradW: Float32Array | null,
    gradBias: Float32Array | null,
  ): void;
}

/** Linear layer y = x wᵀ + b with x [N, K], w [OUT, K], y [N, OUT]. */
export interface LinearParams {
  readonly N: number;
  readonly K: number;
  readonly OUT: number;
}

export interface LinearKernels {
  linearForward(p: LinearParams, x: Float32Array, w: Float32Array, bias: Float32Array | null, out: Float32Array): void;
  /** gradX [N, K] = gradOut [N, OUT] · w [OUT, K] (overwrites). */
  linearBackwardInput(p: LinearParams, gradOut: Float32Array, w: Float32Array, gradX: Float32Array): void;
  /** gradW [OUT, K] = gradOutᵀ · x; gradBias [OUT] = Σ_n gradOut (overwrite; null skips). */
  linearBackwardWeight(
    p: LinearParams,
    x: Float32Array,
    gradOut: Float32Array,
    gradW: Float32Array | null,
    gradBias: Float32Array | null,
  ): void;
}

/**
 * Pooling geometry (PyTorch semantics; padding is symmetric like PyTorch's).
 * OH/OW must come from {@link pool2dOutputSize}.
 */
export interface Pool2dParams {
  readonly N: number;
  readonly C: number;
  readonly H: number;
  readonly W: number;
  readonly KH: number;
  readonly KW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly ceilMode: boolean;
  readonly OH: number;
  readonly OW: number;
}

/**
 * PyTorch's pooling output size: floor/ceil((in + 2·pad − dil·(k−1) − 1)/stride) + 1,
 * and in ceil mode the last window must start inside the input or the left padding.
 */
export function pool2dOutputSize(
  inSize: number,
  kernel: number,
  stride: number,
  pad: number,
  dilation: number,
  ceilMode: boolean,
): number {
  const num = inSize + 2 * pad - dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0);
  let out = Math.floor(num / stride) + 1;
  if (ceilMode && (out - 1) * stride >= inSize + pad) out--;
  return out;
}

export interface Pool2dOptions {
  N: number;
  C: number;
  H: number;
  W: number;
  KH: number;
  KW: number;
  /** Defaults to the kernel size, as in PyTorch. */
  strideH?: number;
  strideW?: number;
  padH?: number;
  padW?: number;
  dilationH?: number;
  dilationW?: number;
  ceilMode?: boolean;
}

export function makePool2dParams(o: Pool2dOptions): Pool2dParams {
  const strideH = o.strideH ?? o.KH;
  const strideW = o.strideW ?? o.KW;
  const padH = o.padH ?? 0;
  const padW = o.padW ?? 0;
  const dilationH = o.dilationH ?? 1;
  const dilationW = o.dilationW ?? 1;
  const ceilMode = o.ceilMode ?? false;
  if (padH * 2 > o.KH || padW * 2 > o.KW) {
    throw new RangeError(`pool2d: pad should be at most half of the kernel size (pad=${padH}x${padW}, kernel=${o.KH}x${o.KW})`);
  }
  const OH = pool2dOutputSize(o.H, o.KH, strideH, padH, dilationH, ceilMode);
  const OW = pool2dOutputSize(o.W, o.KW, strideW, padW, dilationW, ceilMode);
  if (OH <= 0 || OW <= 0) throw new RangeError(`pool2d: output size ${OH}x${OW} is too small`);
  return { N: o.N, C: o.C, H: o.H, W: o.W, KH: o.KH, KW: o.KW, strideH, strideW, padH, padW, dilationH, dilationW, ceilMode, OH, OW };
}

export interface AvgPool2dOptions {
  readonly countIncludePad: boolean;
  /** 0 or null = no override. */
  readonly divisorOverride: number | null;
}

/** Adaptive pooling geometry: input [N, C, H, W] → output [N, C, OH, OW]. */
export interface AdaptivePool2dParams {
  readonly N: number;
  readonly C: number;
  readonly H: number;
  readonly W: number;
  readonly OH: number;
  readonly OW: number;
}

export interface PoolKernels {
  /**
   * out [N, C, OH, OW]; argmax [N, C, OH, OW] receives, like PyTorch, the flat
   * index ih·W + iw of the maximum inside its (n, c) input plane. NaN wins
   * (the last NaN, as in PyTorch's CPU kernel). A window lying entirely in
   * the padding (possible with dilation) gives -Infinity and argmax -1,
   * which the backward pass skips.
   */
  maxPool2dForward(p: Pool2dParams, x: Float32Array, out: Float32Array, argmax: Int32Array): void;
  /** Overwrites gradX [N, C, H, W]. */
  maxPool2dBackward(p: Pool2dParams, gradOut: Float32Array, argmax: Int32Array, gradX: Float32Array): void;
  /** Dilation must be 1 (PyTorch's avg_pool2d has none). */
  avgPool2dForward(p: Pool2dParams, o: AvgPool2dOptions, x: Float32Array, out: Float32Array): void;
  avgPool2dBackward(p: Pool2dParams, o: AvgPool2dOptions, gradOut: Float32Array, gradX: Float32Array): void;
  adaptiveAvgPool2dForward(p: AdaptivePool2dParams, x: Float32Array, out: Float32Array): void;
  adaptiveAvgPool2dBackward(p: AdaptivePool2dParams, gradOut: Float32Array, gradX: Float32Array): void;
}

/** BatchNorm2d geometry: x [N, C, H, W]. */
export interface BatchNorm2dParams {
  readonly N: number;
  readonly C: number;
  readonly H: number;
  readonly W: number;
  readonly eps: number;
}

export interface BatchNormKernels {
  /**
   * Training forward with batch statistics. Writes out, saveMean [C] and
   * saveInvstd [C] = 1/sqrt(biased var + eps) for the backward pass. If
   * unbiasedVar [C] is given it receives the unbiased batch variance (what
   * PyTorch folds into running_var; the caller updates the running stats).
   * weight/bias null means affine=false.
   */
  batchNorm2dForwardTrain(
    p: BatchNorm2dParams,
    x: Float32Array,
    weight: Float32Array | null,
    bias: Float32Array | null,
    out: Float32Array,
    saveMean: Float32Array,
    saveInvstd: Float32Array,
    unbiasedVar: Float32Array | null,
  ): void;
  /** Eval forward with running statistics. */
  batchNorm2dForwardEval(
    p: BatchNorm2dParams,
    x: Float32Array,
    runningMean: Float32Array,
    runningVar: Float32Array,
    weight: Float32Array | null,
    bias: Float32Array | null,
    out: Float32Array,
  ): void;
  /** Backward of the training forward (batch statistics). Outputs overwritten; null skips. */
  batchNorm2dBackwardTrain(
    p: BatchNorm2dParams,
    gradOut: Float32Array,
    x: Float32Array,
    saveMean: Float32Array,
    saveInvstd: Float32Array,
    weight: Float32Array | null,
    gradX: Float32Array | null,
    gradWeight: Float32Array | null,
    gradBias: Float32Array | null,
  ): void;
  /** Backward of the eval forward (running statistics are constants). */
  batchNorm2dBackwardEval(
    p: BatchNorm2dParams,
    gradOut: Float32Array,
    x: Float32Array,
    runningMean: Float32Array,
    runningVar: Float32Array,
    weight: Float32Array | null,
    gradX: Float32Array | null,
    gradWeight: Float32Array | null,
    gradBias: Float32Array | null,
  ): void;
}

/**
 * Row-major single-precision GEMM:
 * C[cOff + i·ldc + j] = alpha · Σ_k op(A)[i,k]·op(B)[k,j] + beta · C[...]
 * for i < M, j < N. op(A) is M×K (A is K×M with lda ≥ M when transA),
 * op(B) is K×N. beta = 0 means C is not read (NaNs in C are overwritten).
 */
export type SgemmFn = (
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float32Array,
  aOff: number,
  lda: number,
  B: Float32Array,
  bOff: number,
  ldb: number,
  beta: number,
  C: Float32Array,
  cOff: number,
  ldc: number,
) => void;

export interface GemmKernels {
  sgemm: SgemmFn;
}

/** Every op a backend can provide. */
export interface KernelSet extends Conv2dKernels, LinearKernels, PoolKernels, BatchNormKernels, GemmKernels {}

export type KernelName = keyof KernelSet;
