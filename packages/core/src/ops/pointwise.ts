import { isFloatingPoint, type DType } from '../dtype.ts';
import { recordOp } from '../autograd/op_node.ts';
import { Tensor } from '../tensor.ts';
import { allocStorage } from '../dtype.ts';
import { broadcastShapes } from '../shape.ts';
import { addInto, asTensor, broadcastData, denseData, mapBinary, mapUnary, reluInto, resultType, type TensorLike } from './elementwise.ts';
import { sameShape } from '../shape.ts';
import { needsRecording } from '../autograd/op_node.ts';
import { sumToShape } from './reduce_to_shape.ts';
import { simdClamp, simdMask } from './simd.ts';
import { deviceArith, deviceMask, deviceUnary } from '../device/ops.ts';

/** Options of `add`/`sub`: `alpha` scales the second operand. */
export interface AlphaOptions {
  /** Multiplier of the second operand (default 1). */
  alpha?: number;
}

/** Options of `clamp`: either bound may be omitted. */
export interface ClampOptions {
  /** Lower bound (none when omitted). */
  min?: number | null;
  /** Upper bound (none when omitted). */
  max?: number | null;
}

function floatResult(x: Tensor): DType {
  return isFloatingPoint(x.dtype) ? x.dtype : 'float32';
}

function binaryOperands(a: TensorLike, b: TensorLike): [Tensor, Tensor, DType] {
  const dtype = resultType(a, b);
  return [asTensor(a, dtype), asTensor(b, dtype), dtype];
}

function reduceGrad(g: Tensor, like: Tensor, needs: boolean): Tensor | null {
  return needs ? sumToShape(g, like.shape) : null;
}

/** a + alpha·b with broadcasting. */
export function add(a: TensorLike, b: TensorLike, opts: AlphaOptions = {}): Tensor {
  const alpha = opts.alpha ?? 1;
  const [x, y, dtype] = binaryOperands(a, b);
  const out = deviceArith('add', x, y, alpha) ?? addSameShape(x, y, alpha, dtype) ??
    (alpha === 1 ? mapBinary(x, y, (p, q) => p + q, dtype) : mapBinary(x, y, (p, q) => p + alpha * q, dtype));
  return recordOp('AddBackward0', [x, y], [out], [], ([g], _s, needs) => [
    reduceGrad(g!, x, needs[0]!),
    needs[1] ? sumToShape(alpha === 1 ? g! : mul(g!, alpha), y.shape) : null,
  ]);
}

/** x + alpha·y for same-shape contiguous operands of the result dtype (the common case), else null. */
function addSameShape(x: Tensor, y: Tensor, alpha: number, dtype: DType): Tensor | null {
  if (x.dtype !== dtype || y.dtype !== dtype || !sameShape(x._nd.shape, y._nd.shape)) return null;
  const xd = denseData(x);
  const yd = xd && denseData(y);
  if (!xd || !yd) return null;
  const out = allocStorage(dtype, xd.length);
  addInto(xd, yd, alpha, out);
  return Tensor._make(out, x._nd.shape, dtype);
}

/** a − alpha·b with broadcasting. */
export function sub(a: TensorLike, b: TensorLike, opts: AlphaOptions = {}): Tensor {
  const alpha = opts.alpha ?? 1;
  const [x, y, dtype] = binaryOperands(a, b);
  const out = deviceArith('sub', x, y, alpha) ?? mapBinary(x, y, (p, q) => p - alpha * q, dtype);
  return recordOp('SubBackward0', [x, y], [out], [], ([g], _s, needs) => [
    reduceGrad(g!, x, needs[0]!),
    needs[1] ? sumToShape(mul(g!, -alpha), y.shape) : null,
  ]);
}

/** Elementwise product with broadcasting. */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  const [x, y, dtype] = binaryOperands(a, b);
  const out = deviceArith('mul', x, y) ?? mapBinary(x, y, (p, q) => p * q, dtype);
  return recordOp('MulBackward0', [x, y], [out], [x, y], ([g], [sx, sy], needs) => [
    needs[0] ? sumToShape(mul(g!, sy!), x.shape) : null,
    needs[1] ? sumToShape(mul(g!, sx!), y.shape) : null,
  ]);
}

/** True division with broadcasting. */
export function div(a: TensorLike, b: TensorLike): Tensor {
  let [x, y, dtype] = binaryOperands(a, b);
  if (!isFloatingPoint(dtype)) {
    dtype = 'float32';
    x = x.to(dtype);
    y = y.to(dtype);
  }
  const out = deviceArith('div', x, y) ?? mapBinary(x, y, (p, q) => p / q, dtype);
  return recordOp('DivBackward0', [x, y], [out], [x, y], ([g], [sx, sy], needs) => [
    needs[0] ? sumToShape(div(g!, sy!), x.shape) : null,
    needs[1] ? sumToShape(neg(div(mul(g!, sx!), mul(sy!, sy!))), y.shape) : null,
  ]);
}

/** Elementwise −x. */
export function neg(x: Tensor): Tensor {
  const out = deviceUnary(x, 'neg') ?? mapUnary(x, (v) => -v);
  return recordOp('NegBackward0', [x], [out], [], ([g]) => [neg(g!)]);
}

/** x ** exponent, for a scalar or tensor exponent (and scalar base with tensor exponent). */
export function pow(x: TensorLike, exponent: TensorLike): Tensor {
  if (x instanceof Tensor && typeof exponent === 'number') {
    const p = exponent;
    const out = mapUnary(x, (v) => Math.pow(v, p), isFloatingPoint(x.dtype) || Number.isInteger(p) ? x.dtype : 'float32');
    return recordOp('PowBackward0', [x], [out], [x], ([g], [sx]) => [
      p === 0 ? mul(g!, 0) : mul(g!, mul(pow(sx!, p - 1), p)),
    ]);
  }
  const [b, e, dtype] = binaryOperands(x, exponent);
  const out = mapBinary(b, e, Math.pow, dtype);
  // PowBackward2 is PyTorch's node for a scalar base.
  return recordOp(x instanceof Tensor ? 'PowBackward1' : 'PowBackward2', [b, e], [out], [b, e, out], ([g], [sb, se, so], needs) => [
    // d/db b^e = e·b^(e-1), defined as 0 where e == 0 (so 0^0 gives 0, not 0·inf).
    needs[0] ? sumToShape(where(eq(se!, 0), 0, mul(g!, mul(se!, pow(sb!, sub(se!, 1))))), b.shape) : null,
    // d/de b^e = b^e·log b, defined as 0 where b == 0 and e >= 0 (PyTorch's masking).
    needs[1]
      ? sumToShape(mul(g!, where(logical_and(eq(sb!, 0), ge(se!, 0)), 0, mul(so!, log(sb!)))), e.shape)
      : null,
  ]);
}

/** Elementwise e^x. */
export function exp(x: Tensor): Tensor {
  const out = mapUnary(x, Math.exp, floatResult(x));
  return recordOp('ExpBackward0', [x], [out], [out], ([g], [y]) => [mul(g!, y!)]);
}

/** Natural logarithm. */
export function log(x: Tensor): Tensor {
  const out = mapUnary(x, Math.log, floatResult(x));
  return recordOp('LogBackward0', [x], [out], [x], ([g], [sx]) => [div(g!, sx!)]);
}

/** Square root (gradient inf at 0, as PyTorch). */
export function sqrt(x: Tensor): Tensor {
  const out = mapUnary(x, Math.sqrt, floatResult(x));
  return recordOp('SqrtBackward0', [x], [out], [out], ([g], [y]) => [div(g!, mul(y!, 2))]);
}

/** Absolute value (gradient 0 at 0, as PyTorch). */
export function abs(x: Tensor): Tensor {
  const out = mapUnary(x, Math.abs);
  return recordOp('AbsBackward0', [x], [out], [x], ([g], [sx]) => [mul(g!, sign(sx!))]);
}

/** -1, 0 or 1 (not differentiable: its gradient is zero). */
export function sign(x: Tensor): Tensor {
  const out = mapUnary(x, (v) => (v > 0 ? 1 : v < 0 ? -1 : v === 0 ? 0 : v));
  return recordOp('SignBackward0', [x], [out], [], ([g]) => [mul(g!, 0)]);
}

/** Clamps into [min, max] (`torch.clamp(g, { min: 0 })`); gradient passes where min ≤ x ≤ max. */
export function clamp(x: Tensor, opts: ClampOptions): Tensor {
  const lo = opts.min ?? null;
  const hi = opts.max ?? null;
  if (lo === null && hi === null) throw new Error("torch.clamp: At least one of 'min' or 'max' must not be None");
  const f = (v: number): number => {
    if (Number.isNaN(v)) return v;
    let r = v;
    if (lo !== null && r < lo) r = lo;
    if (hi !== null && r > hi) r = hi;
    return r;
  };
  const out = deviceUnary(x, { lo, hi }) ?? clampDense(x, lo, hi) ?? mapUnary(x, f);
  const name = hi === null ? 'ClampMinBackward0' : lo === null ? 'ClampMaxBackward0' : 'ClampBackward1';
  return recordOp(name, [x], [out], [x], ([g], [sx]) => {
    const fast = maskedGrad(g!, sx!, lo ?? -Infinity, hi ?? Infinity, true);
    if (fast) return [fast];
    const inRange = mapUnary(sx!, (v) => ((lo === null || v >= lo) && (hi === null || v <= hi) ? 1 : 0), 'bool');
    return [where(inRange, g!, 0)];
  });
}

export { clamp as clip };

/** clamp of a contiguous tensor with closure-free loops (NaN passes through), else null. */
function clampDense(x: Tensor, lo: number | null, hi: number | null): Tensor | null {
  const src = denseData(x);
  if (!src) return null;
  const out = allocStorage(x.dtype, src.length);
  if (simdClamp(src, lo, hi, out)) return Tensor._make(out, x._nd.shape, x.dtype);
  const n = src.length;
  if (hi === null) {
    const l = lo!;
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      out[i] = v < l ? l : v;
    }
  } else if (lo === null) {
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      out[i] = v > hi ? hi : v;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      const r = v < lo ? lo : v;
      out[i] = r > hi ? hi : r;
    }
  }
  return Tensor._make(out, x._nd.shape, x.dtype);
}

/**
 * `g` where lo ≤ x ≤ hi (inclusive) or x > lo (exclusive, hi ignored), else 0 — the backward of
 * clamp/relu as one closure-free loop. Only when nothing is recorded (grad mode off or `g` not
 * requiring grad: create_graph keeps the differentiable where-based formula), `g` is floating,
 * and both are contiguous of one shape; else null.
 */
function maskedGrad(g: Tensor, x: Tensor, lo: number, hi: number, inclusive: boolean): Tensor | null {
  if ((g._dev !== null || x._dev !== null) && !needsRecording([g])) return deviceMask(g, x, lo, hi, inclusive);
  if (needsRecording([g]) || !isFloatingPoint(g.dtype) || !sameShape(g._nd.shape, x._nd.shape)) return null;
  const gd = denseData(g);
  const xd = gd && denseData(x);
  if (!gd || !xd) return null;
  const n = gd.length;
  const out = allocStorage(g.dtype, n);
  if (simdMask(xd, gd, lo, hi, inclusive, out)) return Tensor._make(out, g._nd.shape, g.dtype);
  if (inclusive) {
    for (let i = 0; i < n; i++) {
      const v = xd[i]!;
      if (v >= lo && v <= hi) out[i] = gd[i]!;
    }
  } else {
    for (let i = 0; i < n; i++) if (xd[i]! > lo) out[i] = gd[i]!;
  }
  return Tensor._make(out, g._nd.shape, g.dtype);
}

/** max(0, x) (gradient 0 at 0, as PyTorch). */
export function relu(x: Tensor): Tensor {
  const out = deviceUnary(x, 'relu') ?? reluHost(x);
  return recordOp('ReluBackward0', [x], [out], [out], ([g], [y]) => [threshold_backward(g!, y!, 0)]);
}

function reluHost(x: Tensor): Tensor {
  const src = x._contiguousData();
  const data = allocStorage(x.dtype, src.length);
  reluInto(src, data);
  return Tensor._make(data, x._nd.shape, x.dtype);
}

/** Gradient of threshold/relu: passes `grad` where `input > threshold`, else 0. */
export function threshold_backward(grad: Tensor, input: Tensor, threshold: number): Tensor {
  return maskedGrad(grad, input, threshold, Infinity, false) ?? where(gt(input, threshold), grad, 0);
}

/** Logistic sigmoid 1 / (1 + e^−x). */
export function sigmoid(x: Tensor): Tensor {
  const out = mapUnary(x, (v) => 1 / (1 + Math.exp(-v)), floatResult(x));
  return recordOp('SigmoidBackward0', [x], [out], [out], ([g], [y]) => [mul(g!, mul(y!, sub(1, y!)))]);
}

/** Hyperbolic tangent. */
export function tanh(x: Tensor): Tensor {
  const out = mapUnary(x, Math.tanh, floatResult(x));
  return recordOp('TanhBackward0', [x], [out], [out], ([g], [y]) => [mul(g!, sub(1, mul(y!, y!)))]);
}

/** Elementwise max; where equal, the gradient is split evenly (PyTorch 2.x). */
export function maximum(a: Tensor, b: Tensor): Tensor {
  return extremum(a, b, 'MaximumBackward0', (p, q) => (p >= q || Number.isNaN(p) ? p : q), gt);
}

/** Elementwise min; where equal, the gradient is split evenly (PyTorch 2.x). */
export function minimum(a: Tensor, b: Tensor): Tensor {
  return extremum(a, b, 'MinimumBackward0', (p, q) => (p <= q || Number.isNaN(p) ? p : q), lt);
}

function extremum(
  a: Tensor,
  b: Tensor,
  name: string,
  pick: (p: number, q: number) => number,
  wins: (a: Tensor, b: Tensor) => Tensor,
): Tensor {
  const [x, y, dtype] = binaryOperands(a, b);
  const out = mapBinary(x, y, pick, dtype);
  return recordOp(name, [x, y], [out], [x, y], ([g], [sx, sy], needs) => {
    const half = mul(g!, 0.5);
    const tie = eq(sx!, sy!);
    return [
      needs[0] ? sumToShape(where(tie, half, where(wins(sx!, sy!), g!, 0)), x.shape) : null,
      needs[1] ? sumToShape(where(tie, half, where(wins(sy!, sx!), g!, 0)), y.shape) : null,
    ];
  });
}

/** Picks `a` where `condition` is true, else `b`, with broadcasting of all three. */
export function where(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const [x, y, dtype] = binaryOperands(a, b);
  const shape = broadcastShapes(broadcastShapes(condition.shape, x.shape), y.shape);
  const c = broadcastData(condition, shape);
  const xd = broadcastData(x, shape);
  const yd = broadcastData(y, shape);
  const out = allocStorage(dtype, c.length);
  for (let i = 0; i < out.length; i++) out[i] = c[i] ? xd[i]! : yd[i]!;
  return recordOp('WhereBackward0', [x, y], [Tensor._make(out, shape, dtype)], [condition], ([g], [sc], needs) => [
    needs[0] ? sumToShape(where(sc!, g!, 0), x.shape) : null,
    needs[1] ? sumToShape(where(sc!, 0, g!), y.shape) : null,
  ]);
}

function compare(name: string, f: (p: number, q: number) => boolean) {
  const op = (a: TensorLike, b: TensorLike): Tensor => {
    const [x, y] = binaryOperands(a, b);
    return mapBinary(x, y, (p, q) => (f(p, q) ? 1 : 0), 'bool');
  };
  Object.defineProperty(op, 'name', { value: name });
  return op;
}

/** a > b elementwise (bool result, not differentiable). */
export const gt = compare('gt', (p, q) => p > q);
/** a < b elementwise. */
export const lt = compare('lt', (p, q) => p < q);
/** a >= b elementwise. */
export const ge = compare('ge', (p, q) => p >= q);
/** a <= b elementwise. */
export const le = compare('le', (p, q) => p <= q);
/** a == b elementwise. */
export const eq = compare('eq', (p, q) => p === q);
/** a != b elementwise. */
export const ne = compare('ne', (p, q) => p !== q);
/** Logical and of two tensors (nonzero is true). */
export const logical_and = compare('logical_and', (p, q) => p !== 0 && q !== 0);
/** Logical or of two tensors (nonzero is true). */
export const logical_or = compare('logical_or', (p, q) => p !== 0 || q !== 0);

/** Logical not (nonzero is true). */
export function logical_not(x: Tensor): Tensor {
  return mapUnary(x, (v) => (v === 0 ? 1 : 0), 'bool');
}

/** Elementwise NaN test. */
export function isnan(x: Tensor): Tensor {
  return mapUnary(x, (v) => (Number.isNaN(v) ? 1 : 0), 'bool');
}
