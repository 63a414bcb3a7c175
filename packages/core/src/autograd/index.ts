/** `torch.autograd`: custom Functions, functional gradients, gradcheck, graph utilities. */
export { Function, FunctionCtx, type BackwardResult, type FunctionClass } from './function.ts';
export { grad, backward, type GradOptions, type AutogradBackwardOptions } from './grad.ts';
export { gradcheck, type GradcheckOptions } from './gradcheck.ts';
export { Node, type Grads, type NodePostHook, type NodePreHook, type TensorHook, type Edge, type TensorMeta } from './node.ts';
export * as graph from './graph.ts';
