/**
 * Parity with PyTorch 1.13 / torchvision 0.14 (fixtures from scripts/make_parity_fixtures.py).
 *
 * Both sides build the network from the same counter-hash weights (fixtures/parity/hash_init.ts
 * ≡ export_torchvision.py's hash_state_dict), so only PyTorch's outputs are committed. For each
 * model, in eval mode at a small input: the logits, the plain input gradient of the target class,
 * and the seed's guided-backprop gradient (examples/guided_backprop.ts: every ReLU hooked with
 * register_backward_hook clamping grad_in[0] at 0, children()[0] hooked to capture grad_in[0])
 * must match within 1e-4 of the largest magnitude.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
type NdArray = ReturnType<Tensor['numpy']>;
import * as nn from '../src/index.ts';
import { load_safetensors } from '../src/io/safetensors.ts';
import * as models from '../src/models/index.ts';
import { GuidedBackprop } from '../../../examples/guided_backprop.ts';
import { hashInput, hashStateDict } from './fixtures/parity/hash_init.ts';

const FIX = fileURLToPath(new URL('./fixtures/parity/', import.meta.url));
const META = JSON.parse(readFileSync(FIX + 'keys.json', 'utf8')) as {
  num_classes: number;
  seed: number;
  target: number;
  sizes: Record<string, number>;
  input_seeds: Record<string, number>;
};
const TOL = 1e-4;

function flat(x: Tensor | NdArray): Float64Array {
  if (x instanceof torch.Tensor) return Float64Array.from(x.detach()._contiguousData());
  return Float64Array.from(torch.from_numpy(x).contiguous()._contiguousData());
}

/** max |a − b| / max |b|. */
function relErr(a: Tensor | NdArray, b: Tensor): number {
  const x = flat(a);
  const y = flat(b);
  expect(x.length).toBe(y.length);
  let d = 0;
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    d = Math.max(d, Math.abs(x[i]! - y[i]!));
    m = Math.max(m, Math.abs(y[i]!));
  }
  expect(m).toBeGreaterThan(0);
  return d / m;
}

function hashedModel(name: keyof typeof BUILD): nn.Module {
  const model = BUILD[name]();
  model.load_state_dict(hashStateDict(model.state_dict(), META.seed));
  return model.eval();
}

const BUILD = {
  resnet18: () => models.resnet18({ num_classes: META.num_classes }),
  resnet50: () => models.resnet50({ num_classes: META.num_classes }),
  alexnet: () => models.alexnet({ num_classes: META.num_classes }),
  vgg16: () => models.vgg16({ num_classes: META.num_classes }),
};

describe.each(Object.keys(BUILD) as (keyof typeof BUILD)[])('%s matches PyTorch', (name) => {
  const ref = load_safetensors(`${FIX}${name}_gbp.safetensors`);
  const size = META.sizes[name]!;
  const errs: Record<string, number> = {};

  it('logits and the plain input gradient', () => {
    const model = hashedModel(name);
    const x = hashInput('input', [1, 3, size, size], META.input_seeds[name]!);
    expect(relErr(x, ref.input!), 'hash input').toBe(0);
    x.requires_grad_(true);
    const logits = model(x);
    errs.logits = relErr(logits, ref.logits!);
    const one_hot = torch.zeros(1, META.num_classes);
    torch.setitem(one_hot, [0, META.target], 1);
    logits.backward(one_hot);
    errs.vanilla = relErr(x.grad!, ref.vanilla!);
    expect(errs.logits).toBeLessThanOrEqual(TOL);
    expect(errs.vanilla).toBeLessThanOrEqual(TOL);
  });

  it("the seed's GuidedBackprop gradient", () => {
    const gbp = new GuidedBackprop(hashedModel(name));
    const x = hashInput('input', [1, 3, size, size], META.input_seeds[name]!).requires_grad_(true);
    const guided = gbp.generate_gradients(x, META.target);
    expect(guided.shape).toEqual(ref.guided!.shape);
    errs.guided = relErr(guided, ref.guided!);
    console.log(`${name} @${size}x${size}: max|diff|/max|ref| logits ${errs.logits?.toExponential(2)} vanilla ${errs.vanilla?.toExponential(2)} guided ${errs.guided.toExponential(2)}`);
    expect(errs.guided).toBeLessThanOrEqual(TOL);
  });
});
