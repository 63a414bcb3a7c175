/** `torch.autograd.graph`: saved-tensor hooks and the node type. */
export { saved_tensors_hooks, SavedTensor } from './saved_tensor.ts';
export { Node } from './node.ts';
