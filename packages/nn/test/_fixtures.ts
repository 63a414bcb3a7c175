import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';

export interface TJson {
  shape: number[];
  data: number[];
}

export function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`./fixtures/hooks/${name}`, import.meta.url)), 'utf8')) as T;
}

export function fromJson(j: TJson, opts: { requires_grad?: boolean } = {}): Tensor {
  return torch.tensor(Float32Array.from(j.data), { shape: j.shape, requires_grad: opts.requires_grad });
}

/** max |a - b| / max(|b|, tiny) over all elements. */
export function relErr(a: Tensor | null | undefined, b: TJson): number {
  if (!a) return Infinity;
  expectShape(a.shape, b.shape);
  const x = a.detach()._contiguousData();
  let maxAbs = 0;
  let maxDiff = 0;
  for (let i = 0; i < b.data.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(b.data[i]!));
    maxDiff = Math.max(maxDiff, Math.abs(x[i]! - b.data[i]!));
  }
  return maxDiff / Math.max(maxAbs, 1e-12);
}

function expectShape(a: number[], b: number[]): void {
  if (a.length !== b.length || a.some((v, i) => v !== b[i])) throw new Error(`shape mismatch [${a}] vs [${b}]`);
}
