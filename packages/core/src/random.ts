/** Deterministic random numbers for rand/randn/init (`manual_seed`). Not bit-compatible with PyTorch's mt19937. */

// xoshiro128** state; seeded through splitmix32 so that nearby seeds give unrelated streams.
const state = new Uint32Array(4);
let spareNormal: number | null = null;

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Seeds the global generator, like `torch.manual_seed`. */
export function manual_seed(seed: number): void {
  const next = splitmix32(Math.floor(seed) ^ Math.floor(seed / 2 ** 32));
  for (let i = 0; i < 4; i++) state[i] = next();
  spareNormal = null;
}

manual_seed(Date.now());

function nextUint32(): number {
  const s = state;
  const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
  const t = s[1]! << 9;
  s[2]! ^= s[0]!;
  s[3]! ^= s[1]!;
  s[1]! ^= s[2]!;
  s[0]! ^= s[3]!;
  s[2]! ^= t;
  s[3] = rotl(s[3]!, 11);
  return result;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Uniform in [0, 1) with 53 bits. */
export function randomUniform(): number {
  const hi = nextUint32() >>> 5;
  const lo = nextUint32() >>> 6;
  return (hi * 67108864 + lo) / 9007199254740992;
}

/** Standard normal by Box–Muller, caching the second value. */
export function randomNormal(): number {
  if (spareNormal !== null) {
    const v = spareNormal;
    spareNormal = null;
    return v;
  }
  let u = 0;
  while (u === 0) u = randomUniform();
  const v = randomUniform();
  const r = Math.sqrt(-2 * Math.log(u));
  spareNormal = r * Math.sin(2 * Math.PI * v);
  return r * Math.cos(2 * Math.PI * v);
}

/**
 * Fills `out` with U(from, to) (53-bit uniforms, the same stream as `randomUniform`), with the
 * generator state in locals: model init draws hundreds of millions of values.
 */
export function fillUniform(out: Float32Array | Float64Array, from: number, to: number): void {
  let s0 = state[0]! | 0;
  let s1 = state[1]! | 0;
  let s2 = state[2]! | 0;
  let s3 = state[3]! | 0;
  const scale = (to - from) / 9007199254740992;
  for (let i = 0; i < out.length; i++) {
    const hi = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 5;
    let t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11) | 0;
    const lo = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 6;
    t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11) | 0;
    out[i] = from + (hi * 67108864 + lo) * scale;
  }
  state[0] = s0;
  state[1] = s1;
  state[2] = s2;
  state[3] = s3;
}

/** Fills `out` with N(mean, std²) by Box–Muller over `fillUniform`'s stream, two values per pair. */
export function fillNormal(out: Float32Array | Float64Array, mean: number, std: number): void {
  spareNormal = null;
  const u = new Float64Array(Math.min(out.length + (out.length & 1), 1 << 16));
  for (let start = 0; start < out.length; start += u.length) {
    const n = Math.min(u.length, out.length - start);
    const pairs = u.subarray(0, n + (n & 1));
    fillUniform(pairs, 0, 1);
    for (let i = 0; i < n; i += 2) {
      const r = std * Math.sqrt(-2 * Math.log(1 - pairs[i]!));
      const theta = 2 * Math.PI * pairs[i + 1]!;
      out[start + i] = mean + r * Math.cos(theta);
      if (i + 1 < n) out[start + i + 1] = mean + r * Math.sin(theta);
    }
  }
}
