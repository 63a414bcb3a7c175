/**
 * Module-global hooks (`torch.nn.modules.module.register_module_*_hook`): they run for every module
 * call, before the module's own hooks, as in PyTorch.
 */
import type { RemovableHandle } from '@gradlens/core';
import { HookDict } from './hook_dict.ts';
import type { Grads, Kwargs } from './types.ts';
import type { Module } from '../module.ts';

/** Any module, as global hooks see it. */
export type HookedModule = Module<never, unknown>;

export type GlobalForwardPreHook = (module: HookedModule, args: unknown[]) => unknown;
export type GlobalForwardHook = (module: HookedModule, args: unknown[], output: unknown) => unknown;
export type GlobalBackwardHook = (module: HookedModule, grad_input: Grads, grad_output: Grads) => Grads | void | null | undefined;
export type GlobalBackwardPreHook = (module: HookedModule, grad_output: Grads) => Grads | void | null | undefined;

/** @internal */
export const globalHooks = {
  forwardPre: new HookDict<GlobalForwardPreHook>(),
  forward: new HookDict<GlobalForwardHook>(),
  backward: new HookDict<GlobalBackwardHook>(),
  backwardPre: new HookDict<GlobalBackwardPreHook>(),
  /** null: no global backward hook registered yet; true: full; false: legacy. */
  isFullBackwardHook: null as boolean | null,
};

/** Registers a forward pre-hook common to all modules (runs before each module's own pre-hooks). */
export function register_module_forward_pre_hook(hook: GlobalForwardPreHook): RemovableHandle {
  return globalHooks.forwardPre.add(hook);
}

/** Registers a forward hook common to all modules; `always_call` runs it even if forward throws. */
export function register_module_forward_hook(hook: GlobalForwardHook, opts: { always_call?: boolean } = {}): RemovableHandle {
  return globalHooks.forward.add(hook, { always_call: opts.always_call });
}

/** The legacy (non-full) backward hook for all modules; see `Module.register_backward_hook`. */
export function register_module_backward_hook(hook: GlobalBackwardHook): RemovableHandle {
  if (globalHooks.isFullBackwardHook === true) {
    throw new Error('Cannot use both regular backward hooks and full backward hooks as a global Module hook. Please use only one of them.');
  }
  globalHooks.isFullBackwardHook = false;
  return globalHooks.backward.add(hook);
}

/** A full backward hook for all modules; see `Module.register_full_backward_hook`. */
export function register_module_full_backward_hook(hook: GlobalBackwardHook): RemovableHandle {
  if (globalHooks.isFullBackwardHook === false) {
    throw new Error('Cannot use both regular backward hooks and full backward hooks as a global Module hook. Please use only one of them.');
  }
  globalHooks.isFullBackwardHook = true;
  return globalHooks.backward.add(hook);
}

/** A full backward pre-hook for all modules; see `Module.register_full_backward_pre_hook`. */
export function register_module_full_backward_pre_hook(hook: GlobalBackwardPreHook): RemovableHandle {
  return globalHooks.backwardPre.add(hook);
}

export type { Kwargs };
