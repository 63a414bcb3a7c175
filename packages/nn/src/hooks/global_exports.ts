export {
  register_module_forward_pre_hook, register_module_forward_hook, register_module_backward_hook,
  register_module_full_backward_hook, register_module_full_backward_pre_hook,
  type GlobalForwardPreHook, type GlobalForwardHook, type GlobalBackwardHook, type GlobalBackwardPreHook, type HookedModule,
} from './global.ts';
export { Module } from '../module.ts';
