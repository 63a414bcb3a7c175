import { describe, expect, it } from 'vitest';
import * as torch from '@gradlens/core';
import * as nn from '../src/index.ts';

describe('nn.init.skip_init', () => {
  it('builds layers without drawing from the generator, and restores init afterwards', () => {
    torch.manual_seed(0);
    const skipped = nn.init.skip_init(() => new nn.Conv2d(3, 4, 3));
    expect(nn.init.is_init_skipped()).toBe(false);
    expect((skipped.weight.detach().reshape([-1]).tolist() as number[]).every((v) => v === 0)).toBe(true);
    // the generator was not advanced: the next layer draws what it would have drawn first
    const a = new nn.Conv2d(3, 4, 3);
    torch.manual_seed(0);
    const b = new nn.Conv2d(3, 4, 3);
    expect(a.weight.detach().tolist()).toEqual(b.weight.detach().tolist());
    expect((a.weight.detach().reshape([-1]).tolist() as number[]).some((v) => v !== 0)).toBe(true);
  });

  it('a skipped model loads a state dict to the same values as an initialised one', () => {
    const ref = nn.models.resnet18({ num_classes: 3 });
    const sd = ref.state_dict();
    const m = nn.init.skip_init(() => nn.models.resnet18({ num_classes: 3 }));
    m.load_state_dict(sd);
    const got = m.state_dict();
    for (const k of ['conv1.weight', 'bn1.running_var', 'fc.bias']) expect(got[k]!.tolist()).toEqual(sd[k]!.tolist());
  });

  it('restores the state when the builder throws', () => {
    expect(() => nn.init.skip_init(() => { throw new Error('boom'); })).toThrow('boom');
    expect(nn.init.is_init_skipped()).toBe(false);
  });
});
