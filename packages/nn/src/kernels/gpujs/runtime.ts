/**
 * Loading gpu.js and (in Node) a WebGPU implementation for it.
 *
 * gpu.js's `webgpu` backend reads the global `navigator.gpu`
 * (`src/backend/web-gpu/context.js`: `navigator.gpu.requestAdapter()` and
 * `adapter.requestDevice()`, one device shared by every kernel). Browsers
 * have it; in Node we create one from the `webgpu@0.6.2` package (Dawn) and
 * install it as `navigator.gpu` before the first webgpu kernel is built.
 * gpu.js's own bundled `webgpu@0.2.9` is never loaded (its binary needs a
 * newer libstdc++ than Debian 12 ships).
 *
 * Both loaders are lazy so that importing gradlens does not pay for gpu.js
 * (or the Dawn binary) unless a gpu.js backend is actually used.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';

/** The small part of gpu.js's kernel-runner shape gradlens uses. */
export interface GpuJsKernel {
  (...args: unknown[]): unknown;
  kernel?: { constructor: { mode?: string }; fallbackReason?: string | null };
  destroy?: (removeCanvasReferences?: boolean) => void;
}

export interface GpuJsInstance {
  createKernel(source: string, settings: Record<string, unknown>): GpuJsKernel;
  destroy(): Promise<void> | void;
}

export interface GpuJsModule {
  GPU: {
    new (settings: { mode: string }): GpuJsInstance;
    isWebGPUSupported?: boolean;
    isWebAssemblySupported?: boolean;
    isWebGPUAvailable?: () => Promise<boolean>;
  };
}

let gpujs: GpuJsModule | null = null;

/** Loads gpu.js (CommonJS) on first use. */
export function loadGpuJs(): GpuJsModule {
  if (gpujs === null) {
    const require = createRequire(import.meta.url);
    gpujs = require('gpu.js') as GpuJsModule;
  }
  return gpujs;
}

/** The SwiftShader Vulkan ICD that Debian's `chromium` package ships. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** What we report about an adapter (WebGPU `GPUAdapterInfo` plus the fallback flag). */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** `adapter.isFallbackAdapter` / `info.isFallbackAdapter` (true for SwiftShader). */
  isFallbackAdapter: boolean;
  /** Whether gradlens classifies it as a software (CPU) rasterizer. */
  software: boolean;
}

interface MinimalAdapter {
  info?: Record<string, unknown>;
  isFallbackAdapter?: boolean;
  requestAdapterInfo?: () => Promise<Record<string, unknown>>;
}

interface MinimalGpu {
  requestAdapter(options?: Record<string, unknown>): Promise<MinimalAdapter | null>;
}

const SOFTWARE_RE = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render|\bwarp\b|\bcpu\b/i;

/** Whether adapter info describes a software (CPU) implementation. */
export function isSoftwareAdapter(d: Omit<AdapterDescription, 'software'>): boolean {
  if (d.isFallbackAdapter) return true;
  return SOFTWARE_RE.test(`${d.vendor} ${d.architecture} ${d.device} ${d.description}`);
}

export async function describeAdapter(adapter: MinimalAdapter): Promise<AdapterDescription> {
  let info: Record<string, unknown> = adapter.info ?? {};
  if (adapter.info === undefined && typeof adapter.requestAdapterInfo === 'function') {
    info = await adapter.requestAdapterInfo();
  }
  const str = (k: string): string => (typeof info[k] === 'string' ? (info[k] as string) : '');
  const base = {
    vendor: str('vendor'),
    architecture: str('architecture'),
    device: str('device'),
    description: str('description'),
    isFallbackAdapter: adapter.isFallbackAdapter === true || info['isFallbackAdapter'] === true,
  };
  return { ...base, software: isSoftwareAdapter(base) };
}

export function formatAdapter(d: AdapterDescription): string {
  const parts = [d.vendor, d.architecture, d.device, d.description].filter((s) => s.length > 0);
  return `${parts.join(' / ') || 'unnamed adapter'}${d.software ? ' (software)' : ''}`;
}

function currentNavigatorGpu(): MinimalGpu | undefined {
  const nav = (globalThis as { navigator?: { gpu?: MinimalGpu } }).navigator;
  return nav?.gpu;
}

export interface InstallResult {
  /** True when `navigator.gpu` exists after the call. */
  ok: boolean;
  /** 'native' (already present, e.g. a browser), 'webgpu@0.6.2' (installed here), or 'none'. */
  source: 'native' | 'webgpu-package' | 'none';
  /** Why it is missing, when `ok` is false. */
  reason: string;
}

let installPromise: Promise<InstallResult> | null = null;

export interface InstallOptions {
  /**
   * Point Vulkan at the SwiftShader ICD (sets `VK_ICD_FILENAMES` when it is
   * unset) before Dawn starts. Tests use this; `auto` never does.
   */
  swiftshader?: boolean;
  /** Dawn toggles/options passed to `create()` (e.g. `['enable-dawn-features=...']`). */
  dawnOptions?: string[];
}

/**
 * Makes `navigator.gpu` available to gpu.js in Node by creating it from the
 * `webgpu@0.6.2` package. Idempotent: the first call decides (the Vulkan
 * loader reads `VK_ICD_FILENAMES` once, when Dawn creates its instance).
 * Async because the package is an ES module loaded on demand.
 */
export function installNodeWebGPU(opts: InstallOptions = {}): Promise<InstallResult> {
  if (installPromise !== null) return installPromise;
  installPromise = (async (): Promise<InstallResult> => {
    if (currentNavigatorGpu() !== undefined) return { ok: true, source: 'native', reason: '' };
    if (opts.swiftshader === true && process.env['VK_ICD_FILENAMES'] === undefined) {
      if (!existsSync(SWIFTSHADER_ICD)) {
        return { ok: false, source: 'none', reason: `SwiftShader ICD not found at ${SWIFTSHADER_ICD} (install Debian's chromium package)` };
      }
      process.env['VK_ICD_FILENAMES'] = SWIFTSHADER_ICD;
    }
    let mod: { create: (o: string[]) => MinimalGpu; globals: object };
    try {
      // resolved from this file, so a bundled copy of gradlens finds nn's dependency too
      const where = createRequire(import.meta.url).resolve('webgpu');
      mod = (await import(pathToFileURL(where).href)) as unknown as typeof mod;
    } catch (e) {
      return { ok: false, source: 'none', reason: `cannot load the webgpu package: ${(e as Error).message}` };
    }
    // gpu.js uses the GPUBufferUsage/GPUMapMode/... globals
    for (const [k, v] of Object.entries(mod.globals)) {
      if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    }
    // Without XDG_RUNTIME_DIR, Dawn's Vulkan loader prints "error: XDG_RUNTIME_DIR is invalid or not
    // set" (twice) on stderr while probing window systems; a headless process needs only a directory.
    if (process.env['XDG_RUNTIME_DIR'] === undefined) process.env['XDG_RUNTIME_DIR'] = tmpdir();
    const gpu = mod.create(opts.dawnOptions ?? []);
    const nav = (globalThis as { navigator?: object }).navigator;
    if (nav !== undefined) {
      // Node ≥ 21 has a global navigator without gpu
      Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, enumerable: true });
    } else {
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    }
    return { ok: true, source: 'webgpu-package', reason: '' };
  })();
  return installPromise;
}

export interface AdapterProbe {
  adapter: AdapterDescription | null;
  reason: string;
}

/** Requests an adapter through `navigator.gpu` (installing it in Node first) and describes it. */
export async function probeWebGPUAdapter(opts: InstallOptions = {}): Promise<AdapterProbe> {
  const inst = await installNodeWebGPU(opts);
  if (!inst.ok) return { adapter: null, reason: inst.reason };
  const gpu = currentNavigatorGpu();
  if (gpu === undefined) return { adapter: null, reason: 'navigator.gpu is missing' };
  let adapter: MinimalAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return { adapter: null, reason: `requestAdapter() threw: ${(e as Error).message}` };
  }
  if (adapter === null) {
    return {
      adapter: null,
      reason: 'navigator.gpu.requestAdapter() returned null (no Vulkan/Metal/D3D12 driver Dawn accepts; ' +
        `for the software adapter set VK_ICD_FILENAMES=${SWIFTSHADER_ICD})`,
    };
  }
  return { adapter: await describeAdapter(adapter), reason: '' };
}
