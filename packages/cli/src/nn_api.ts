/** The parts of @gradlens/nn the CLI uses, in one place. */
export { Sequential, Flatten, Module, init, kernels, models, load_safetensors, save_safetensors, select_device, resolve_device } from '@gradlens/nn';
