/**
 * `nn.init`: in-place parameter initialisers with PyTorch's formulas, drawing from gradlens's
 * seeded generator (`torch.manual_seed`; the streams are not bit-identical to PyTorch's).
 */
import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';

export type Nonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'conv_transpose1d' | 'conv_transpose2d' | 'conv_transpose3d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';
export type FanMode = 'fan_in' | 'fan_out';

/** The recommended gain for a nonlinearity (`calculate_gain`). */
export function calculate_gain(nonlinearity: Nonlinearity, param?: number | null): number {
  switch (nonlinearity) {
    case 'linear': case 'conv1d': case 'conv2d': case 'conv3d': case 'conv_transpose1d': case 'conv_transpose2d': case 'conv_transpose3d': case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new Error(`Unsupported nonlinearity ${String(nonlinearity)}`);
  }
}

/** [fan_in, fan_out] of a weight: dim 1 × receptive field, dim 0 × receptive field. */
export function _calculate_fan_in_and_fan_out(t: Tensor): [number, number] {
  if (t.dim() < 2) throw new Error('Fan in and fan out can not be computed for tensor with fewer than 2 dimensions');
  const shape = t.shape;
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return [shape[1]! * receptive, shape[0]! * receptive];
}

function fan(t: Tensor, mode: FanMode): number {
  const [fi, fo] = _calculate_fan_in_and_fan_out(t);
  return mode === 'fan_in' ? fi : fo;
}

let skipping = 0;

/**
 * Runs `fn` with every initialiser of this module turned into a no-op, so the parameters and
 * buffers it creates keep the zeros they were allocated with (gradlens's counterpart of PyTorch's
 * `torch.nn.utils.skip_init` / meta-device construction). For a model whose every parameter and
 * buffer is loaded right after (`load_state_dict` with `strict`); it also leaves the seeded
 * generator untouched. Nested calls are fine; the previous state is restored even if `fn` throws.
 *
 * ```ts
 * const model = nn.init.skip_init(() => nn.models.resnet50({ num_classes: 7 }));
 * model.load_state_dict(nn.load_safetensors('resnet50.safetensors'));
 * ```
 */
export function skip_init<T>(fn: () => T): T {
  skipping++;
  try {
    return fn();
  } finally {
    skipping--;
  }
}

/** Whether initialisers are currently skipped (inside {@link skip_init}). */
export function is_init_skipped(): boolean {
  return skipping > 0;
}

export function uniform_(t: Tensor, a = 0, b = 1): Tensor {
  if (skipping > 0) return t;
  return torch.no_grad(() => t.uniform_(a, b));
}

export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  if (skipping > 0) return t;
  return torch.no_grad(() => t.normal_(mean, std));
}

export function constant_(t: Tensor, val: number): Tensor {
  if (skipping > 0) return t;
  return torch.no_grad(() => t.fill_(val));
}

export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/** Kaiming/He uniform: U(−b, b), b = gain·√(3/fan). PyTorch layers use a = √5. */
export function kaiming_uniform_(t: Tensor, opts: { a?: number; mode?: FanMode; nonlinearity?: Nonlinearity } = {}): Tensor {
  const gain = calculate_gain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0);
  const bound = Math.sqrt(3) * (gain / Math.sqrt(fan(t, opts.mode ?? 'fan_in')));
  return uniform_(t, -bound, bound);
}

/** Kaiming/He normal: N(0, (gain/√fan)²). */
export function kaiming_normal_(t: Tensor, opts: { a?: number; mode?: FanMode; nonlinearity?: Nonlinearity } = {}): Tensor {
  const gain = calculate_gain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0);
  return normal_(t, 0, gain / Math.sqrt(fan(t, opts.mode ?? 'fan_in')));
}

/** Glorot uniform: U(−b, b), b = gain·√(6/(fan_in+fan_out)). */
export function xavier_uniform_(t: Tensor, gain = 1): Tensor {
  const [fi, fo] = _calculate_fan_in_and_fan_out(t);
  const a = gain * Math.sqrt(6 / (fi + fo));
  return uniform_(t, -a, a);
}

/** Glorot normal: N(0, gain²·2/(fan_in+fan_out)). */
export function xavier_normal_(t: Tensor, gain = 1): Tensor {
  const [fi, fo] = _calculate_fan_in_and_fan_out(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fi + fo)));
}
