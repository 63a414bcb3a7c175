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
