/** `nn.modules.module.*`: the module-global hook registrations, at PyTorch's path. */
export * as module from './hooks/global_exports.ts';
