import { is_grad_enabled } from '../grad_mode.ts';
import { setAccumulatorFactory, Tensor } from '../tensor.ts';
import { add } from '../ops/pointwise.ts';
import { clone } from '../ops/view.ts';
import { setAccumulateGradClass } from './engine.ts';
import { Node, type Grads } from './node.ts';
import { metaOf } from './op_node.ts';

/** A gradient safe to keep as `.grad`: never aliased with another leaf's grad, a view, or a user tensor. */
function ownGrad(g: Tensor): Tensor {
  const owned = g._claimedAsGrad || g._base !== null || !g.is_contiguous() || g.requires_grad ? clone(g).detach() : g;
  owned._claimedAsGrad = true;
  return owned;
}

/** The node that sums incoming gradients into a leaf's `.grad` (PyTorch's AccumulateGrad). */
export class AccumulateGrad extends Node {
  constructor(readonly variable: Tensor) {
    super([], [], [metaOf(variable)]);
  }

  name(): string {
    return 'torch::autograd::AccumulateGrad';
  }

  apply([g]: Grads): Grads {
    const v = this.variable;
    if (!g) return [];
    if (is_grad_enabled()) {
      // create_graph: keep the gradient's own history so it can be differentiated again; the clone
      // (differentiable) keeps leaves that received the same gradient tensor from sharing one .grad.
      v._grad = v._grad === null ? clone(g) : add(v._grad, g);
    } else if (v._grad === null) {
      v._grad = ownGrad(g);
    } else if (v._grad.requires_grad || v._grad._base !== null || v._grad._dev !== null) {
      // (device buffers are immutable: a device .grad is replaced, not written into)
      v._grad = ownGrad(add(v._grad.detach(), g));
    } else {
      v._grad.add_(g);
    }
    if (v._postAccumulateHooks) for (const hook of v._postAccumulateHooks) hook(v);
    return [];
  }
}

setAccumulatorFactory((t) => new AccumulateGrad(t));
setAccumulateGradClass(AccumulateGrad);
