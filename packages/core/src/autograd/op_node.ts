import { is_grad_enabled } from '../grad_mode.ts';
import { Tensor } from '../tensor.ts';
import { gradientEdge } from './gradient_edge.ts';
import { Node, type Grads, type TensorMeta } from './node.ts';
import { SavedTensor } from './saved_tensor.ts';
import { deviceFull } from '../device/ops.ts';

/**
 * Backward formula of a built-in op: gets one gradient per forward output (zeros where none flowed),
 * the saved tensors, and which inputs need a gradient; returns one gradient per input.
 */
export type BackwardFormula = (grads: Tensor[], saved: Tensor[], needs: boolean[]) => (Tensor | null)[];

/** The grad_fn of a built-in op. */
export class OpNode extends Node {
  private readonly saved: SavedTensor[];

  constructor(
    private readonly opName: string,
    inputs: (Tensor | null)[],
    outputs: Tensor[],
    saved: Tensor[],
    private readonly formula: BackwardFormula,
  ) {
    super(
      inputs.map((t) => (t && t.requires_grad ? gradientEdge(t) : { node: null, inputNr: 0 })),
      inputs.map((t) => (t ? metaOf(t) : null)),
      outputs.map(metaOf),
    );
    this.saved = saved.map((t) => new SavedTensor(t));
  }

  name(): string {
    return this.opName;
  }

  apply(gradOutputs: Grads): Grads {
    const grads = gradOutputs.map((g, i) => g ?? zerosOf(this.outputMeta[i]!));
    const saved = this.saved.map((s, i) => s.unpack(this.opName, i));
    return this.formula(grads, saved, this.nextEdges.map((e) => e.node !== null));
  }

  override release(): void {
    for (const s of this.saved) s.release();
  }
}

/** Zeros for a slot that received no gradient, on the slot's device. */
export function zerosOf(meta: TensorMeta): Tensor {
  return meta.device === null ? Tensor._zeros(meta.shape, meta.dtype) : deviceFull(meta.device, meta.shape, 0);
}

export function metaOf(t: Tensor): TensorMeta {
  return { shape: t.shape, dtype: t.dtype, device: t._dev?.backend ?? null };
}

/** True when an op on these inputs must be recorded for autograd. */
export function needsRecording(inputs: readonly (Tensor | null)[]): boolean {
  if (!is_grad_enabled()) return false;
  for (const t of inputs) if (t && t.requires_grad) return true;
  return false;
}

/**
 * Records a built-in op in the graph when grad mode is on and an input requires grad: the outputs
 * get a shared `OpNode` as their grad_fn. Returns the first output for convenience.
 */
export function recordOp(
  name: string,
  inputs: (Tensor | null)[],
  outputs: Tensor[],
  saved: Tensor[],
  formula: BackwardFormula,
): Tensor {
  if (needsRecording(inputs)) {
    const node = new OpNode(name, inputs, outputs, saved, formula);
    outputs.forEach((o, i) => {
      o._gradFn = node;
      o._outputNr = i;
    });
  }
  return outputs[0]!;
}
