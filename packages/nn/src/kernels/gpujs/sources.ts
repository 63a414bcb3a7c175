/**
 * gpu.js kernel sources (plain JavaScript strings, so that no TypeScript
 * transform touches what gpu.js parses).
 *
 * Conventions, identical on the webasm and webgpu backends:
 * - Every tensor argument is a flat float32 array (NCHW, C-contiguous) and is
 *   indexed with one flat index; kernels gather (each thread computes one
 *   output cell, no atomics, no scatter).
 * - NCHW outputs use the 3-D grid [W, H, N·C]: thread.x = column,
 *   thread.y = row, thread.z = n·C + c. The only divisions left are of small
 *   integers (z by C), done as floor((a + 0.5) / b), which is exact even with
 *   the 2.5-ULP division WGSL allows (a plain floor(a / b) is not).
 * - gpu.js computes these indices in f32, so every tensor must have fewer
 *   than 2^24 elements (checked by the callers).
 * - Shape parameters are `this.constants` (baked into the compiled kernel;
 *   the callers cache one compiled kernel per op and shape).
 * - Loops run over constant bounds only (gpu.js caps any other loop at
 *   `loopMaxIterations`), with range checks inside.
 */

/**
 * A max-pool kernel over output [OW, OH, N*C]: the window scan (best value `bv` at flat index `best`
 * inside the plane, -1 when the window is all padding) followed by `result`, which picks what it
 * returns (gpu.js kernels return one value, so value and argmax are two kernels).
 */
function maxPoolScan(name: string, result: string): string {
  return `function ${name}(x) {
  const ow = this.thread.x;
  const oh = this.thread.y;
  const xb = this.thread.z * this.constants.HW;
  const ih0 = oh * this.constants.sH - this.constants.pH;
  const iw0 = ow * this.constants.sW - this.constants.pW;
  let best = -1;
  let bv = 0;
  for (let kh = 0; kh < this.constants.KH; kh++) {
    const ih = ih0 + kh * this.constants.dH;
    if (ih >= 0 && ih < this.constants.H) {
      for (let kw = 0; kw < this.constants.KW; kw++) {
        const iw = iw0 + kw * this.constants.dW;
        if (iw >= 0 && iw < this.constants.W) {
          const idx = ih * this.constants.W + iw;
          const v = x[xb + idx];
          if (best < 0 || v > bv) {
            bv = v;
            best = idx;
          }
        }
      }
    }
  }
${result}
}`;
}

export const SRC = {
  /** Identity copy: device upload on webgpu. Output [n]. */
  copy: `function copy(a) {
  return a[this.thread.x];
}`,

  /**
   * Device-to-device copy (reshape). A separate kernel from \`copy\`: a gpu.js
   * webgpu kernel must always see the same argument kind (host array vs
   * buffer handle); switching kinds on a built kernel fails.
   */
  /** 2-D transpose of x [R, C] into [C, R]. Output [R, C] in gpu.js order: thread.x = column j < R, thread.y = row i < C. */
  transpose2d: `function transpose2d(x) {
  return x[this.thread.x * this.constants.C + this.thread.y];
}`,

  copyDevice: `function copyDevice(a) {
  return a[this.thread.x];
}`,

  /** Conv2d forward. Output [OW, OH, N*OC]. Args x, w, bias (zeros when absent). */
  conv2dForward: `function conv2dForward(x, w, b) {
  const ow = this.thread.x;
  const oh = this.thread.y;
  const z = this.thread.z;
  const n = Math.floor((z + 0.5) / this.constants.OC);
  const oc = z - n * this.constants.OC;
  const g = Math.floor((oc + 0.5) / this.constants.OCg);
  const ih0 = oh * this.constants.sH - this.constants.pT;
  const iw0 = ow * this.constants.sW - this.constants.pL;
  let s = 0;
  for (let ci = 0; ci < this.constants.Cg; ci++) {
    const xc = (n * this.constants.C + g * this.constants.Cg + ci) * this.constants.H;
    const wc = (oc * this.constants.Cg + ci) * this.constants.KH;
    for (let kh = 0; kh < this.constants.KH; kh++) {
      const ih = ih0 + kh * this.constants.dH;
      if (ih >= 0 && ih < this.constants.H) {
        const xr = (xc + ih) * this.constants.W;
        const wr = (wc + kh) * this.constants.KW;
        for (let kw = 0; kw < this.constants.KW; kw++) {
          const iw = iw0 + kw * this.constants.dW;
          if (iw >= 0 && iw < this.constants.W) {
            s += x[xr + iw] * w[wr + kw];
          }
        }
      }
    }
  }
  return s + b[oc];
}`,

  /** dL/dx of conv2d. Output [W, H, N*C]. Args gradOut, w. */
  conv2dBackwardInput: `function conv2dBackwardInput(gy, w) {
  const iw = this.thread.x;
  const ih = this.thread.y;
  const z = this.thread.z;
  const n = Math.floor((z + 0.5) / this.constants.C);
  const c = z - n * this.constants.C;
  const g = Math.floor((c + 0.5) / this.constants.Cg);
  const ci = c - g * this.constants.Cg;
  let s = 0;
  for (let ocl = 0; ocl < this.constants.OCg; ocl++) {
    const oc = g * this.constants.OCg + ocl;
    const gc = (n * this.constants.OC + oc) * this.constants.OH;
    const wc = (oc * this.constants.Cg + ci) * this.constants.KH;
    for (let kh = 0; kh < this.constants.KH; kh++) {
      const th = ih + this.constants.pT - kh * this.constants.dH;
      const oh = Math.floor((th + 0.5) / this.constants.sH);
      if (th >= 0 && oh * this.constants.sH === th && oh < this.constants.OH) {
        const gr = (gc + oh) * this.constants.OW;
        const wr = (wc + kh) * this.constants.KW;
        for (let kw = 0; kw < this.constants.KW; kw++) {
          const tw = iw + this.constants.pL - kw * this.constants.dW;
          const ow = Math.floor((tw + 0.5) / this.constants.sW);
          if (tw >= 0 && ow * this.constants.sW === tw && ow < this.constants.OW) {
            s += gy[gr + ow] * w[wr + kw];
          }
        }
      }
    }
  }
  return s;
}`,

  /** dL/dw of conv2d. Output [KW, KH, OC*Cg]. Args x, gradOut. */
  conv2dBackwardWeight: `function conv2dBackwardWeight(x, gy) {
  const kw = this.thread.x;
  const kh = this.thread.y;
  const z = this.thread.z;
  const oc = Math.floor((z + 0.5) / this.constants.Cg);
  const ci = z - oc * this.constants.Cg;
  const g = Math.floor((oc + 0.5) / this.constants.OCg);
  const c = g * this.constants.Cg + ci;
  const dh = kh * this.constants.dH - this.constants.pT;
  const dw = kw * this.constants.dW - this.constants.pL;
  let s = 0;
  for (let n = 0; n < this.constants.N; n++) {
    const xc = (n * this.constants.C + c) * this.constants.H;
    const gc = (n * this.constants.OC + oc) * this.constants.OH;
    for (let oh = 0; oh < this.constants.OH; oh++) {
      const ih = oh * this.constants.sH + dh;
      if (ih >= 0 && ih < this.constants.H) {
        const xr = (xc + ih) * this.constants.W;
        const gr = (gc + oh) * this.constants.OW;
        for (let ow = 0; ow < this.constants.OW; ow++) {
          const iw = ow * this.constants.sW + dw;
          if (iw >= 0 && iw < this.constants.W) {
            s += x[xr + iw] * gy[gr + ow];
          }
        }
      }
    }
  }
  return s;
}`,

  /** dL/db of conv2d: Σ over n, oh, ow. Output [OC]. Arg gradOut. */
  conv2dBackwardBias: `function conv2dBackwardBias(gy) {
  const oc = this.thread.x;
  let s = 0;
  for (let n = 0; n < this.constants.N; n++) {
    const base = (n * this.constants.OC + oc) * this.constants.OHW;
    for (let i = 0; i < this.constants.OHW; i++) {
      s += gy[base + i];
    }
  }
  return s;
}`,

  /** y = x wᵀ + b. Output [OUT, N]. Args x [N,K], w [OUT,K], b [OUT]. */
  linearForward: `function linearForward(x, w, b) {
  const o = this.thread.x;
  const n = this.thread.y;
  const xr = n * this.constants.K;
  const wr = o * this.constants.K;
  let s = 0;
  for (let k = 0; k < this.constants.K; k++) {
    s += x[xr + k] * w[wr + k];
  }
  return s + b[o];
}`,

  /** dx = gy · w. Output [K, N]. */
  linearBackwardInput: `function linearBackwardInput(gy, w) {
  const k = this.thread.x;
  const n = this.thread.y;
  const gr = n * this.constants.OUT;
  let s = 0;
  for (let o = 0; o < this.constants.OUT; o++) {
    s += gy[gr + o] * w[o * this.constants.K + k];
  }
  return s;
}`,

  /** dw = gyᵀ · x. Output [K, OUT]. */
  linearBackwardWeight: `function linearBackwardWeight(x, gy) {
  const k = this.thread.x;
  const o = this.thread.y;
  let s = 0;
  for (let n = 0; n < this.constants.N; n++) {
    s += gy[n * this.constants.OUT + o] * x[n * this.constants.K + k];
  }
  return s;
}`,

  /** db = Σ_n gy. Output [OUT]. */
  linearBackwardBias: `function linearBackwardBias(gy) {
  const o = this.thread.x;
  let s = 0;
  for (let n = 0; n < this.constants.N; n++) {
    s += gy[n * this.constants.OUT + o];
  }
  return s;
}`,

  /** max(x, 0). Output [size]. */
  relu: `function relu(x) {
  const v = x[this.thread.x];
  if (v <= 0) {
    return 0;
  }
  return v;
}`,

  /** gy where x > 0 (x may be the ReLU's input or output: same mask). Output [size]. */
  reluBackward: `function reluBackward(x, gy) {
  const i = this.thread.x;
  if (x[i] > 0) {
    return gy[i];
  }
  return 0;
}`,

  /** Guided-backprop rule: gy where x > 0 and gy > 0. Output [size]. */
  reluBackwardGuided: `function reluBackwardGuided(x, gy) {
  const i = this.thread.x;
  const g = gy[i];
  if (x[i] > 0 && g > 0) {
    return g;
  }
  return 0;
}`,

  /** a + b. Output [size]. */
  add: `function add(a, b) {
  const i = this.thread.x;
  return a[i] + b[i];
}`,

  /** a − b. Output [size]. */
  sub: `function sub(a, b) {
  const i = this.thread.x;
  return a[i] - b[i];
}`,

  /** a · b. Output [size]. */
  mul: `function mul(a, b) {
  const i = this.thread.x;
  return a[i] * b[i];
}`,

  /** a / b (WGSL allows 2.5 ULP for f32 division). Output [size]. */
  div: `function div(a, b) {
  const i = this.thread.x;
  return a[i] / b[i];
}`,

  /** −x. Output [size]. */
  neg: `function neg(x) {
  return -x[this.thread.x];
}`,

  /*
   * Tensor-scalar ops and the other ops with number parameters below take
   * them as scalar kernel ARGUMENTS, not constants: a scalar argument is a
   * uniform f32 on webgpu (an f32 slot on webasm), so it can hold ±Infinity
   * and NaN (a baked WGSL constant cannot: gpu.js writes Infinity as
   * ±FLT_MAX and NaN does not compile), and one compiled kernel serves every
   * value. Values are rounded to f32.
   */

  /** x + s. Output [size]. */
  scalarAdd: `function scalarAdd(x, s) {
  return x[this.thread.x] + s;
}`,

  /** x · s. Output [size]. */
  scalarMul: `function scalarMul(x, s) {
  return x[this.thread.x] * s;
}`,

  /** s − x. Output [size]. */
  scalarRsub: `function scalarRsub(x, s) {
  return s - x[this.thread.x];
}`,

  /** x / s. Output [size]. */
  scalarDiv: `function scalarDiv(x, s) {
  return x[this.thread.x] / s;
}`,

  /** s / x. Output [size]. */
  scalarRdiv: `function scalarRdiv(x, s) {
  return s / x[this.thread.x];
}`,

  /**
   * min(max(x, lo), hi) written as two comparisons, so NaN passes through
   * (both are false for NaN) and lo > hi gives hi, as the CPU op. An absent
   * bound is passed as ∓Infinity. Output [size].
   */
  clamp: `function clamp(x, lo, hi) {
  let v = x[this.thread.x];
  if (v < lo) {
    v = lo;
  }
  if (v > hi) {
    v = hi;
  }
  return v;
}`,

  /** Clamp backward mask: g where lo ≤ x ≤ hi, else 0 (0 where x is NaN). Output [size]. */
  maskInclusive: `function maskInclusive(x, g, lo, hi) {
  const i = this.thread.x;
  const v = x[i];
  if (v >= lo && v <= hi) {
    return g[i];
  }
  return 0;
}`,

  /** Threshold/ReLU backward mask: g where x > lo, else 0 (0 where x is NaN). Output [size]. */
  maskGreater: `function maskGreater(x, g, lo) {
  const i = this.thread.x;
  if (x[i] > lo) {
    return g[i];
  }
  return 0;
}`,

  /** value everywhere (no array inputs). Output [size]. */
  fill: `function fill(value) {
  return value;
}`,

  /** Max-pool value. Output [OW, OH, N*C]. */
  maxPool2dForward: maxPoolScan('maxPool2dForward', `  if (best < 0) {
    return -3.4028234663852886e38;
  }
  return bv;`),

  /** Max-pool argmax (flat ih·W + iw inside the plane, -1 for an all-padding window), as f32. */
  maxPool2dArgmax: maxPoolScan('maxPool2dArgmax', '  return best;'),

  /** Max-pool backward (gather). Output [W, H, N*C]. Args gradOut, argmax (f32). */
  maxPool2dBackward: `function maxPool2dBackward(gy, am) {
  const iw = this.thread.x;
  const ih = this.thread.y;
  const ob = this.thread.z * this.constants.OHW;
  const idx = ih * this.constants.W + iw;
  let s = 0;
  for (let kh = 0; kh < this.constants.KH; kh++) {
    const th = ih + this.constants.pH - kh * this.constants.dH;
    const oh = Math.floor((th + 0.5) / this.constants.sH);
    if (th >= 0 && oh * this.constants.sH === th && oh < this.constants.OH) {
      for (let kw = 0; kw < this.constants.KW; kw++) {
        const tw = iw + this.constants.pW - kw * this.constants.dW;
        const ow = Math.floor((tw + 0.5) / this.constants.sW);
        if (tw >= 0 && ow * this.constants.sW === tw && ow < this.constants.OW) {
          const o = ob + oh * this.constants.OW + ow;
          if (am[o] === idx) {
            s += gy[o];
          }
        }
      }
    }
  }
  return s;
}`,

  /** Avg-pool forward with PyTorch's divisor rules. Output [OW, OH, N*C]. */
  avgPool2dForward: `function avgPool2dForward(x) {
  const ow = this.thread.x;
  const oh = this.thread.y;
  const xb = this.thread.z * this.constants.HW;
  let hs = oh * this.constants.sH - this.constants.pH;
  let he = Math.min(hs + this.constants.KH, this.constants.H + this.constants.pH);
  const ph = he - hs;
  hs = Math.max(hs, 0);
  he = Math.min(he, this.constants.H);
  let ws = ow * this.constants.sW - this.constants.pW;
  let we = Math.min(ws + this.constants.KW, this.constants.W + this.constants.pW);
  const pw = we - ws;
  ws = Math.max(ws, 0);
  we = Math.min(we, this.constants.W);
  if (hs >= he || ws >= we) {
    return 0;
  }
  let s = 0;
  for (let kh = 0; kh < this.constants.KH; kh++) {
    const ih = hs + kh;
    if (ih < he) {
      for (let kw = 0; kw < this.constants.KW; kw++) {
        const iw = ws + kw;
        if (iw < we) {
          s += x[xb + ih * this.constants.W + iw];
        }
      }
    }
  }
  let d = (he - hs) * (we - ws);
  if (this.constants.CIP > 0) {
    d = ph * pw;
  }
  if (this.constants.DIV > 0) {
    d = this.constants.DIV;
  }
  return s / d;
}`,

  /** Avg-pool backward (gather). Output [W, H, N*C]. */
  avgPool2dBackward: `function avgPool2dBackward(gy) {
  const iw = this.thread.x;
  const ih = this.thread.y;
  const ob = this.thread.z * this.constants.OHW;
  let s = 0;
  for (let kh = 0; kh < this.constants.KH; kh++) {
    const th = ih + this.constants.pH - kh;
    const oh = Math.floor((th + 0.5) / this.constants.sH);
    if (th >= 0 && oh * this.constants.sH === th && oh < this.constants.OH) {
      let hs = oh * this.constants.sH - this.constants.pH;
      let he = Math.min(hs + this.constants.KH, this.constants.H + this.constants.pH);
      const ph = he - hs;
      hs = Math.max(hs, 0);
      he = Math.min(he, this.constants.H);
      for (let kw = 0; kw < this.constants.KW; kw++) {
        const tw = iw + this.constants.pW - kw;
        const ow = Math.floor((tw + 0.5) / this.constants.sW);
        if (tw >= 0 && ow * this.constants.sW === tw && ow < this.constants.OW) {
          let ws = ow * this.constants.sW - this.constants.pW;
          let we = Math.min(ws + this.constants.KW, this.constants.W + this.constants.pW);
          const pw = we - ws;
          ws = Math.max(ws, 0);
          we = Math.min(we, this.constants.W);
          let d = (he - hs) * (we - ws);
          if (this.constants.CIP > 0) {
            d = ph * pw;
          }
          if (this.constants.DIV > 0) {
            d = this.constants.DIV;
          }
          s += gy[ob + oh * this.constants.OW + ow] / d;
        }
      }
    }
  }
  return s;
}`,

  /** Adaptive avg-pool forward. Output [OW, OH, N*C]; MKH/MKW = largest window. */
  adaptiveAvgPool2dForward: `function adaptiveAvgPool2dForward(x) {
  const ow = this.thread.x;
  const oh = this.thread.y;
  const xb = this.thread.z * this.constants.HW;
  const hs = Math.floor((oh * this.constants.H + 0.5) / this.constants.OH);
  const he = Math.floor(((oh + 1) * this.constants.H + this.constants.OH - 0.5) / this.constants.OH);
  const ws = Math.floor((ow * this.constants.W + 0.5) / this.constants.OW);
  const we = Math.floor(((ow + 1) * this.constants.W + this.constants.OW - 0.5) / this.constants.OW);
  let s = 0;
  for (let kh = 0; kh < this.constants.MKH; kh++) {
    const ih = hs + kh;
    if (ih < he) {
      for (let kw = 0; kw < this.constants.MKW; kw++) {
        const iw = ws + kw;
        if (iw < we) {
          s += x[xb + ih * this.constants.W + iw];
        }
      }
    }
  }
  return s / ((he - hs) * (we - ws));
}`,

  /** Adaptive avg-pool backward (gather over every window). Output [W, H, N*C]. */
  adaptiveAvgPool2dBackward: `function adaptiveAvgPool2dBackward(gy) {
  const iw = this.thread.x;
  const ih = this.thread.y;
  const ob = this.thread.z * this.constants.OHW;
  let s = 0;
  for (let oh = 0; oh < this.constants.OH; oh++) {
    const hs = Math.floor((oh * this.constants.H + 0.5) / this.constants.OH);
    const he = Math.floor(((oh + 1) * this.constants.H + this.constants.OH - 0.5) / this.constants.OH);
    if (ih >= hs && ih < he) {
      for (let ow = 0; ow < this.constants.OW; ow++) {
        const ws = Math.floor((ow * this.constants.W + 0.5) / this.constants.OW);
        const we = Math.floor(((ow + 1) * this.constants.W + this.constants.OW - 0.5) / this.constants.OW);
        if (iw >= ws && iw < we) {
          s += gy[ob + oh * this.constants.OW + ow] / ((he - hs) * (we - ws));
        }
      }
    }
  }
  return s;
}`,

  /** Per-channel affine x·scale[c] + shift[c] (batch-norm inference). Output [W, H, N*C]. */
  channelAffine: `function channelAffine(x, scale, shift) {
  const z = this.thread.z;
  const n = Math.floor((z + 0.5) / this.constants.C);
  const c = z - n * this.constants.C;
  const i = (z * this.constants.H + this.thread.y) * this.constants.W + this.thread.x;
  return x[i] * scale[c] + shift[c];
}`,

  /** Per-channel scale gy·scale[c] (batch-norm inference backward). Output [W, H, N*C]. */
  channelScale: `function channelScale(gy, scale) {
  const z = this.thread.z;
  const n = Math.floor((z + 0.5) / this.constants.C);
  const c = z - n * this.constants.C;
  const i = (z * this.constants.H + this.thread.y) * this.constants.W + this.thread.x;
  return gy[i] * scale[c];
}`,

  /** Σ_{n,hw} gy (batch-norm dβ). Output [C]. */
  channelSum: `function channelSum(gy) {
  const c = this.thread.x;
  let s = 0;
  for (let n = 0; n < this.constants.N; n++) {
    const base = (n * this.constants.C + c) * this.constants.HW;
    for (let i = 0; i < this.constants.HW; i++) {
      s += gy[base + i];
    }
  }
  return s;
}`,

  /** invstd[c] · Σ_{n,hw} gy·(x − mean[c]) (batch-norm dγ). Output [C]. */
  channelDot: `function channelDot(gy, x, mean, invstd) {
  const c = this.thread.x;
  const m = mean[c];
  let s = 0;
  for (let n = 0; n < this.constants.N; n++) {
    const base = (n * this.constants.C + c) * this.constants.HW;
    for (let i = 0; i < this.constants.HW; i++) {
      s += gy[base + i] * (x[base + i] - m);
    }
  }
  return s * invstd[c];
}`,

  /**
   * Constant pad of the last two dims (negative pads crop; the backward pass of
   * a pad is the pad with negated amounts and value 0). Output [OW, OH, N*C].
   */
  pad2d: `function pad2d(x) {
  const ih = this.thread.y - this.constants.pT;
  const iw = this.thread.x - this.constants.pL;
  if (ih >= 0 && ih < this.constants.H && iw >= 0 && iw < this.constants.W) {
    return x[(this.thread.z * this.constants.H + ih) * this.constants.W + iw];
  }
  return this.constants.VALUE;
}`,
} as const;

export type KernelOp = keyof typeof SRC;
