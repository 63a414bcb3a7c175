import { no_grad } from '../grad_mode.ts';
import { Tensor } from '../tensor.ts';
import { warnOnce } from '../warn.ts';
import { grad } from './grad.ts';

/** Options of `gradcheck`, PyTorch's defaults. */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance (default 1e-3). */
  rtol?: number;
  /** Throw on mismatch (default) or return false. */
  raise_exception?: boolean;
}

/** Storage offset of the i-th element (C order) of a possibly strided tensor. */
function offsetOf(t: Tensor, i: number): number {
  const shape = t._nd.shape;
  let off = t._nd.offset;
  for (let d = shape.length - 1; d >= 0; d--) {
    off += (i % shape[d]!) * t._nd.stride[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return off;
}

function flatOutputs(out: Tensor | Tensor[]): Tensor[] {
  return (Array.isArray(out) ? out : [out]).filter((o) => o.is_floating_point());
}

/**
 * Compares autograd's Jacobian of `fn` with central finite differences (`torch.autograd.gradcheck`).
 * Use float64 inputs: float32 finite differences are too coarse for the default tolerances.
 */
export function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor | Tensor[],
  inputs: Tensor | Tensor[],
  opts: GradcheckOptions = {},
): boolean {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-3;
  const ins = Array.isArray(inputs) ? inputs : [inputs];
  const diffIdx = ins.map((t, i) => (t.requires_grad ? i : -1)).filter((i) => i >= 0);
  if (diffIdx.length === 0) throw new Error('gradcheck expects at least one input tensor to require gradient');
  for (const i of diffIdx) {
    if (ins[i]!.dtype !== 'float64') {
      warnOnce('gradcheck-precision', `Input #${i} requires gradient and is not a double precision floating point. This check will likely fail.`);
    }
  }
  const outputs = flatOutputs(fn(...ins));
  const fail = (msg: string): boolean => {
    if (opts.raise_exception ?? true) throw new Error(msg);
    return false;
  };

  for (const inputIndex of diffIdx) {
    const x = ins[inputIndex]!;
    const n = x.numel();
    // numerical[o][j][k]: d out_o[k] / d x[j]
    const numerical = outputs.map(() => new Array<Float64Array>(n));
    for (let j = 0; j < n; j++) {
      const off = offsetOf(x, j);
      const data = x._nd.data;
      const orig = data[off]!;
      const evalAt = (v: number): Tensor[] => {
        data[off] = v;
        return no_grad(() => flatOutputs(fn(...ins)));
      };
      const plus = evalAt(orig + eps).map((o) => Float64Array.from(o._contiguousData()));
      const minus = evalAt(orig - eps).map((o) => Float64Array.from(o._contiguousData()));
      data[off] = orig;
      plus.forEach((p, o) => {
        numerical[o]![j] = p.map((v, k) => (v - minus[o]![k]!) / (2 * eps));
      });
    }
    for (let o = 0; o < outputs.length; o++) {
      const out = outputs[o]!;
      if (!out.requires_grad) {
        if (numerical[o]!.some((col) => col.some((v) => Math.abs(v) > atol))) {
          return fail(`Jacobian mismatch for output ${o} with respect to input ${inputIndex}: output does not require grad but the numerical gradient is nonzero`);
        }
        continue;
      }
      const m = out.numel();
      for (let k = 0; k < m; k++) {
        const go = Tensor._zeros(out.shape, out.dtype);
        go._nd.data[k] = 1;
        const [g] = grad(out, x, { grad_outputs: go, retain_graph: true, allow_unused: true });
        const row = g ? g._contiguousData() : null;
        for (let j = 0; j < n; j++) {
          const a = row ? row[j]! : 0;
          const num = numerical[o]![j]![k]!;
          if (!(Math.abs(a - num) <= atol + rtol * Math.abs(num))) {
            return fail(
              `Jacobian mismatch for output ${o} with respect to input ${inputIndex},\n` +
                `at output element ${k}, input element ${j}: numerical ${num}, analytical ${a}`,
            );
          }
        }
      }
    }
  }
  return true;
}
