import type { Tensor } from '@gradlens/core';

/** Gradients passed to module backward hooks: one slot per input/output, `null` where there is none. */
export type Grads = (Tensor | null)[];

/** Options of `register_forward_pre_hook` / `register_forward_hook` (PyTorch 2.x keywords). */
export interface ForwardHookOptions {
  /** Run this hook before the ones already registered. */
  prepend?: boolean;
  /** The hook also receives the keyword arguments (always `{}` in gradlens, which has no kwargs). */
  with_kwargs?: boolean;
  /** Forward hooks only: run the hook even when forward throws. */
  always_call?: boolean;
}

/** Options of the backward hook registrations. */
export interface BackwardHookOptions {
  prepend?: boolean;
}

/** Keyword arguments seen by `with_kwargs` hooks. gradlens modules take positional arguments only. */
export type Kwargs = Record<string, unknown>;
