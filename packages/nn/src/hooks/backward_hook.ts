/**
 * Full module backward hooks, as PyTorch's `torch.utils.hooks.BackwardHook`: the module's tensor
 * inputs and outputs go through an identity autograd Function (`BackwardHookFunctionBackward`), so
 * the gradients w.r.t. the module's inputs and outputs can be captured however many ops forward has.
 */
import * as torch from '@gradlens/core';
import { Tensor } from '@gradlens/core';
import type { Grads } from './types.ts';

type FunctionCtx = torch.autograd.FunctionCtx;

/** Identity on its tensor arguments; gradients pass through unchanged. */
export class BackwardHookFunction extends torch.autograd.Function {
  static backward_name = 'BackwardHookFunctionBackward';

  static override forward(ctx: FunctionCtx, ...args: Tensor[]): Tensor[] {
    ctx.mark_non_differentiable(...args.filter((a) => !a.requires_grad));
    return args;
  }

  static override backward(_ctx: FunctionCtx, ...grads: Tensor[]): Tensor[] {
    return grads;
  }
}

export type ModuleBackwardHookFn = (module: unknown, grad_input: Grads, grad_output: Grads) => Grads | void | null | undefined;
export type ModuleBackwardPreHookFn = (module: unknown, grad_output: Grads) => Grads | void | null | undefined;

/** Per-call wiring of full backward hooks and backward pre-hooks (one instance per module call). */
export class BackwardHook {
  private gradOutputs: Grads | null = null;
  private nOutputs = -1;
  private outputTensorsIndex: number[] | null = null;
  private nInputs = -1;
  private inputTensorsIndex: number[] | null = null;

  constructor(
    private readonly module: unknown,
    private readonly userHooks: ModuleBackwardHookFn[],
    private readonly userPreHooks: ModuleBackwardPreHookFn[],
  ) {}

  private packWithNull(indices: number[], values: Grads, size: number): Grads {
    const res: Grads = new Array<Tensor | null>(size).fill(null);
    indices.forEach((idx, i) => (res[idx] = values[i] ?? null));
    return res;
  }

  private unpackNull(indices: number[], values: Grads): Grads {
    return indices.map((idx) => values[idx] ?? null);
  }

  /** Runs `fn` with the grad_fn of the identity Function applied to the tensors among `args`. */
  private applyOnTensors(fn: (gradFn: torch.autograd.Node) => void, args: unknown[]): [unknown[], number[] | null] {
    const tensorsIdx: number[] = [];
    const tensors: Tensor[] = [];
    let requiresGrad = false;
    args.forEach((a, i) => {
      if (a instanceof Tensor) {
        tensorsIdx.push(i);
        tensors.push(a);
        requiresGrad ||= a.requires_grad;
      }
    });
    if (!(requiresGrad && torch.is_grad_enabled())) return [args, null];
    const newTensors = BackwardHookFunction.apply(...tensors);
    if (newTensors.length === 0) throw new Error('Cannot set Module backward hook for a Module with no input Tensors.');
    const gradFn = newTensors.map((t) => t.grad_fn).find((g) => g !== null && g.name() === 'BackwardHookFunctionBackward');
    if (!gradFn) throw new Error('Error while setting up backward hooks.');
    fn(gradFn);
    const out = [...args];
    tensorsIdx.forEach((idx, i) => (out[idx] = newTensors[i]));
    return [out, tensorsIdx];
  }

  private setUserHook(gradFn: torch.autograd.Node): void {
    gradFn.register_hook((gradInput) => {
      if (this.gradOutputs === null) return undefined; // gradient reached the inputs without passing the outputs
      let res = this.packWithNull(this.inputTensorsIndex!, gradInput, this.nInputs);
      for (const hook of this.userHooks) {
        const out = hook(this.module, res, this.gradOutputs);
        if (out === undefined || out === null) continue;
        if (out.length !== res.length) {
          throw new Error(`Backward hook returned an invalid number of grad_input, got ${out.length}, but expected ${res.length}`);
        }
        res = out;
      }
      this.gradOutputs = null;
      return this.unpackNull(this.inputTensorsIndex!, res);
    });
  }

  setupInputHook(args: unknown[]): unknown[] {
    const [res, idx] = this.applyOnTensors((g) => this.setUserHook(g), args);
    this.nInputs = args.length;
    this.inputTensorsIndex = idx;
    return res;
  }

  setupOutputHook<T>(result: T): T {
    const fn = (gradFn: torch.autograd.Node): void => {
      gradFn.register_prehook((gradOutput) => {
        this.gradOutputs = this.packWithNull(this.outputTensorsIndex!, gradOutput, this.nOutputs);
        if (this.userPreHooks.length > 0) {
          const expected = this.gradOutputs.length;
          for (const pre of this.userPreHooks) {
            const r = pre(this.module, this.gradOutputs);
            if (r === undefined || r === null) continue;
            if (r.length !== expected) {
              throw new Error(`Backward pre hook returned an invalid number of grad_output, got ${r.length}, but expected ${expected}`);
            }
            this.gradOutputs = r;
          }
        }
        // No input requires grad: the user hooks run here, with all-null grad_input.
        if (this.inputTensorsIndex === null) {
          const gradInputs = this.packWithNull([], [], this.nInputs);
          for (const hook of this.userHooks) {
            const r = hook(this.module, gradInputs, this.gradOutputs);
            if (r !== undefined && r !== null && !r.every((g) => g === null || g === undefined)) {
              throw new Error('Backward hook for Modules where no input requires gradient should always return None or None for all gradients.');
            }
          }
          const local = this.gradOutputs;
          this.gradOutputs = null;
          return this.unpackNull(this.outputTensorsIndex!, local);
        }
        return this.unpackNull(this.outputTensorsIndex!, this.gradOutputs);
      });
    };
    const isTuple = Array.isArray(result);
    const args: unknown[] = isTuple ? result : [result];
    const [res, idx] = this.applyOnTensors(fn, args);
    this.nOutputs = args.length;
    this.outputTensorsIndex = idx;
    return (isTuple ? res : res[0]) as T;
  }
}
