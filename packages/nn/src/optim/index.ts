/** `torch.optim`: SGD and Adam. */
export { Optimizer, type ParamGroup, type ParamGroupInput } from './optimizer.ts';
export { SGD, type SGDOptions } from './sgd.ts';
export { Adam, type AdamOptions } from './adam.ts';
