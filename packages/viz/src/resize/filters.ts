/** Resampling filters, named as PIL's `Image.Resampling` members (lower case). */
export type ResampleFilter = 'nearest' | 'box' | 'bilinear' | 'hamming' | 'bicubic' | 'lanczos';

/**
 * PIL-style filter constants, so ported code can write `Resampling.LANCZOS`.
 * `ANTIALIAS` is the old (removed in Pillow 10) alias of LANCZOS that the
 * pytorch-cnn-visualizations code uses.
 */
export const Resampling = {
  NEAREST: 'nearest',
  BOX: 'box',
  BILINEAR: 'bilinear',
  HAMMING: 'hamming',
  BICUBIC: 'bicubic',
  LANCZOS: 'lanczos',
  ANTIALIAS: 'lanczos',
} as const satisfies Record<string, ResampleFilter>;

/** A convolution kernel and its support radius at scale 1, as in Pillow's Resample.c. */
export interface KernelFilter {
  readonly fn: (x: number) => number;
  readonly support: number;
}

const F054 = Math.fround(0.54);
const F046 = Math.fround(0.46);

function sinc(x: number): number {
  if (x === 0.0) return 1.0;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

/** Kernels of the convolution-based filters (everything but nearest). */
export const KERNELS: Record<Exclude<ResampleFilter, 'nearest'>, KernelFilter> = {
  box: { support: 0.5, fn: (x) => (x > -0.5 && x <= 0.5 ? 1.0 : 0.0) },
  bilinear: {
    support: 1.0,
    fn: (x) => {
      const ax = x < 0.0 ? -x : x;
      return ax < 1.0 ? 1.0 - ax : 0.0;
    },
  },
  hamming: {
    support: 1.0,
    fn: (x) => {
      let ax = x < 0.0 ? -x : x;
      if (ax === 0.0) return 1.0;
      if (ax >= 1.0) return 0.0;
      ax = ax * Math.PI;
      // the C code mixes float constants (0.54f, 0.46f) into double arithmetic
      return (Math.sin(ax) / ax) * (F054 + F046 * Math.cos(ax));
    },
  },
  bicubic: {
    support: 2.0,
    fn: (x) => {
      const a = -0.5;
      const ax = x < 0.0 ? -x : x;
      if (ax < 1.0) return ((a + 2.0) * ax - (a + 3.0)) * ax * ax + 1;
      if (ax < 2.0) return (((ax - 5) * ax + 8) * ax - 4) * a;
      return 0.0;
    },
  },
  lanczos: {
    support: 3.0,
    fn: (x) => (-3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0),
  },
};
