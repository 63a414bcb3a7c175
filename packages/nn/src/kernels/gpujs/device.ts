/**
 * Device-resident gpu.js execution: a whole forward + backward pass runs on
 * device handles and is read back once, at the end.
 *
 * ## What is synchronous and what is async
 *
 * - `await GpuDevice.create(...)` — async: in Node it may load the `webgpu`
 *   package and request an adapter (`requestAdapter()` / `requestDevice()`
 *   are Promise APIs in WebGPU).
 * - `upload`, every op (`conv2d`, `relu`, …) and `dispose` — SYNCHRONOUS:
 *   they return a {@link DeviceTensor} handle immediately and enqueue the
 *   work. On webgpu a kernel's first use compiles its WGSL pipeline, which is
 *   asynchronous (`createShaderModule` + `getCompilationInfo`), and a
 *   kernel's dispatch needs its inputs' buffers, so each op is chained on its
 *   inputs' completion; once compiled, gpu.js dispatches synchronously
 *   (`queue.submit`), so the steady state never waits. Nothing is read back.
 * - `await device.read(t)` — async: WebGPU has no synchronous readback
 *   (`GPUBuffer.mapAsync`); this is the only place values leave the device.
 *   Errors of any op feeding `t` (a shader that failed to compile, a lost
 *   device) surface here.
 * - `await device.flush()` — async: waits until everything enqueued so far
 *   has been dispatched (useful before timing or destroying).
 *
 * On the webasm backend (no device memory) a handle holds a Float32Array and
 * ops run on the CPU in WebAssembly (single-threaded SIMD, or gpu.js's worker
 * pool with `threads: true`); the API and its async points are the same.
 */
import type { AdaptivePool2dParams, AvgPool2dOptions, Conv2dParams, LinearParams, Pool2dParams } from '../types.ts';
import { KernelCache, checkSize, flatResult } from './cache.ts';
import type { Constants } from './cache.ts';
import { foldBatchNorm, plans } from './plans.ts';
import type { Plan, ScalarOp } from './plans.ts';
import { SRC } from './sources.ts';
import type { KernelOp } from './sources.ts';
import { describeAdapter, installNodeWebGPU, loadGpuJs, probeWebGPUAdapter } from './runtime.ts';
import type { AdapterDescription, GpuJsInstance, InstallOptions } from './runtime.ts';

export type GpuMode = 'webgpu' | 'webasm';
export type { ScalarOp } from './plans.ts';

export interface GpuDeviceOptions extends InstallOptions {
  mode: GpuMode;
  /** webasm only: run kernels with ≥ 4096 cells on gpu.js's worker pool. Default false. */
  threads?: boolean;
  /** webasm only: cap of the worker pool (default: hardwareConcurrency). */
  poolSize?: number;
}

/** A raw gpu.js value: a Float32Array (webasm) or a WebGPUBufferResult (webgpu). */
type Raw = Float32Array | WebGPUBufferHandle;

interface WebGPUBufferHandle {
  readonly type: 'WebGPUBuffer';
  readonly output: number[];
  toArray(): Promise<unknown>;
  delete(): void;
}

interface Executor {
  upload(data: Float32Array): Promise<Raw>;
  run(plan: Plan, args: Raw[]): Promise<Raw>;
  read(raw: Raw, size: number): Promise<Float32Array>;
  release(raw: Raw): void;
  destroy(): void;
}

class WebasmExecutor implements Executor {
  private readonly cache: KernelCache;
  constructor(private readonly gpu: GpuJsInstance, threads: boolean, poolSize: number | undefined) {
    this.cache = new KernelCache(gpu, threads ? { asyncMode: true, ...(poolSize !== undefined ? { poolSize } : {}) } : {});
  }
  upload(data: Float32Array): Promise<Raw> {
    return Promise.resolve(data.slice());
  }
  async run(plan: Plan, args: Raw[]): Promise<Raw> {
    const k = this.cache.get(plan.op, plan.output, plan.constants);
    const r = await (k(...args, ...(plan.scalars ?? [])) as unknown);
    return flatResult(r, plan.size);
  }
  read(raw: Raw, size: number): Promise<Float32Array> {
    return Promise.resolve((raw as Float32Array).slice(0, size));
  }
  release(): void {}
  destroy(): void {
    this.cache.clear();
    void this.gpu.destroy();
  }
}

class WebGPUExecutor implements Executor {
  private readonly cache: KernelCache;
  constructor(private readonly gpu: GpuJsInstance) {
    // pipeline: results stay in GPU buffers; immutable: every call gets its own buffer
    this.cache = new KernelCache(gpu, { pipeline: true, immutable: true });
  }
  upload(data: Float32Array): Promise<Raw> {
    checkSize('upload', data.length);
    // gpu.js snapshots array arguments synchronously inside the call
    const k = this.cache.get('copy', [data.length], {});
    return k(data) as Promise<Raw>;
  }
  run(plan: Plan, args: Raw[]): Promise<Raw> {
    const k = this.cache.get(plan.op, plan.output, plan.constants);
    return k(...args, ...(plan.scalars ?? [])) as Promise<Raw>;
  }
  async read(raw: Raw, size: number): Promise<Float32Array> {
    const r = await (raw as WebGPUBufferHandle).toArray();
    return flatResult(r, size);
  }
  release(raw: Raw): void {
    (raw as WebGPUBufferHandle).delete();
  }
  destroy(): void {
    this.cache.clear();
    void this.gpu.destroy();
  }
}

/**
 * A tensor living on a {@link GpuDevice}. Shapes are NCHW (or [N, K] for linear).
 *
 * A handle either OWNS its buffer, or is an ALIAS ({@link GpuDevice.alias}) of
 * an owner's buffer with another shape. An alias shares the owner's `_raw` and
 * its `_uses` array (the same object), so work enqueued on the alias delays the
 * owner's release; disposing an alias releases nothing, and disposing the
 * owner disposes every alias of it too.
 */
export class DeviceTensor {
  /**
   * Pending work that reads this buffer (shared by an owner and its aliases);
   * the owner's `dispose()` releases the buffer once all of it has settled.
   * @internal
   */
  readonly _uses: Promise<unknown>[];
  private disposedFlag = false;

  /** @internal */
  constructor(
    readonly device: GpuDevice,
    readonly shape: readonly number[],
    /** @internal */ readonly _raw: Promise<Raw>,
    /** The tensor owning the buffer when this handle is an alias, else null. @internal */
    readonly _owner: DeviceTensor | null = null,
  ) {
    this._uses = _owner === null ? [] : _owner._uses;
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** Whether this handle, or (for an alias) the owner of its buffer, has been disposed. */
  get disposed(): boolean {
    return this.disposedFlag || (this._owner !== null && this._owner.disposed);
  }

  /**
   * Owner: releases the device memory once every op already enqueued on this
   * tensor or on any alias of it has been dispatched (synchronous call; the
   * release itself is deferred); its aliases count as disposed from now on.
   * Alias: only marks this handle disposed; the buffer stays with its owner.
   */
  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    if (this._owner !== null) return;
    // empty the shared array in place: aliases keep pointing at this object
    const uses = this._uses.splice(0);
    void Promise.allSettled([this._raw, ...uses]).then(([r]) => {
      if (r!.status === 'fulfilled') this.device._release(r!.value as Raw);
    });
  }

  /** Same as `device.read(this)`. */
  data(): Promise<Float32Array> {
    return this.device.read(this);
  }
}

function same(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export interface MaxPoolResult {
  out: DeviceTensor;
  /** Flat ih·W + iw of each window's maximum, stored as float32 (exact below 2^24). */
  argmax: DeviceTensor;
}

/** Batch-norm running statistics and affine parameters (host arrays; folded per channel on the host). */
export interface BatchNormStats {
  runningMean: Float32Array;
  runningVar: Float32Array;
  weight: Float32Array | null;
  bias: Float32Array | null;
  eps: number;
}

export class GpuDevice {
  private readonly pending = new Set<Promise<unknown>>();
  private readonly zeros = new Map<number, DeviceTensor>();
  private destroyed = false;

  private constructor(
    readonly mode: GpuMode,
    private readonly exec: Executor,
    /** The WebGPU adapter (webgpu mode), or null. */
    readonly adapter: AdapterDescription | null,
  ) {}

  /**
   * Creates a device. webgpu: installs `navigator.gpu` from `webgpu@0.6.2` in
   * Node when absent, requests the adapter and fails with the reason when
   * there is none. webasm: needs WebAssembly SIMD (Node ≥ 16.4).
   */
  static async create(opts: GpuDeviceOptions): Promise<GpuDevice> {
    const { GPU } = loadGpuJs();
    if (opts.mode === 'webgpu') {
      const probe = await probeWebGPUAdapter(opts);
      if (probe.adapter === null) throw new Error(`gpujs webgpu: ${probe.reason}`);
      const gpu = new GPU({ mode: 'webgpu' });
      return new GpuDevice('webgpu', new WebGPUExecutor(gpu), probe.adapter);
    }
    if (GPU.isWebAssemblySupported === false) throw new Error('gpujs webasm: WebAssembly is not supported here');
    const gpu = new GPU({ mode: 'webasm' });
    return new GpuDevice('webasm', new WebasmExecutor(gpu, opts.threads === true, opts.poolSize), null);
  }

  // ---- plumbing ---------------------------------------------------------

  private track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    const done = (): void => {
      this.pending.delete(p);
    };
    p.then(done, done);
    return p;
  }

  private check(t: DeviceTensor, what: string, shape?: readonly number[]): void {
    if (this.destroyed) throw new Error('GpuDevice: destroyed');
    if (t.device !== this) throw new Error(`GpuDevice: ${what} lives on another device`);
    if (t.disposed) throw new Error(`GpuDevice: ${what} has been disposed`);
    if (shape !== undefined && !same(t.shape, shape)) {
      throw new RangeError(`GpuDevice: ${what} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
  }

  private enqueue(plan: Plan, inputs: DeviceTensor[], shape: readonly number[]): DeviceTensor {
    const raw = this.track(Promise.all(inputs.map((t) => t._raw)).then((raws) => this.exec.run(plan, raws)));
    // errors surface at read(); do not report them as unhandled here
    raw.catch(() => {});
    for (const t of inputs) t._uses.push(raw);
    // once dispatched, a use need not hold back its inputs' release: forget it, so long-lived
    // tensors (weights) do not collect one promise per forward
    const forget = (): void => {
      for (const t of inputs) {
        const i = t._uses.indexOf(raw);
        if (i >= 0) t._uses.splice(i, 1);
      }
    };
    raw.then(forget, forget);
    return new DeviceTensor(this, shape, raw);
  }

  /** @internal */
  _release(raw: Raw): void {
    if (!this.destroyed) this.exec.release(raw);
  }

  private zerosOf(n: number): DeviceTensor {
    let z = this.zeros.get(n);
    if (z === undefined) {
      z = this.upload(new Float32Array(n), [n]);
      this.zeros.set(n, z);
    }
    return z;
  }

  // ---- transfers ----------------------------------------------------------

  /** Copies host data to the device (synchronous; the data is snapshotted at call time). */
  upload(data: Float32Array, shape: readonly number[]): DeviceTensor {
    if (this.destroyed) throw new Error('GpuDevice: destroyed');
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new RangeError(`GpuDevice.upload: ${data.length} values for shape [${shape.join(', ')}]`);
    const raw = this.track(this.exec.upload(data));
    raw.catch(() => {});
    return new DeviceTensor(this, [...shape], raw);
  }

  /** Reads a tensor back (async: WebGPU readback is `mapAsync`). Returns a fresh Float32Array. */
  async read(t: DeviceTensor): Promise<Float32Array> {
    this.check(t, 'read()');
    const p = t._raw.then((raw) => this.exec.read(raw, t.size));
    t._uses.push(p);
    return p;
  }

  /** Waits until everything enqueued so far has been dispatched (rejects with the first failure). */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  /** Releases every kernel and the gpu.js instance (the shared WebGPU device itself stays). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.exec.destroy();
  }

  // ---- convolution ----------------------------------------------------------

  /** x [N,C,H,W], w [OC,C/groups,KH,KW], bias [OC] or null → [N,OC,OH,OW]. */
  conv2d(p: Conv2dParams, x: DeviceTensor, w: DeviceTensor, bias: DeviceTensor | null): DeviceTensor {
    this.check(x, 'conv2d x', [p.N, p.C, p.H, p.W]);
    this.check(w, 'conv2d weight', [p.OC, p.C / p.groups, p.KH, p.KW]);
    if (bias !== null) this.check(bias, 'conv2d bias', [p.OC]);
    return this.enqueue(plans.conv2dForward(p), [x, w, bias ?? this.zerosOf(p.OC)], [p.N, p.OC, p.OH, p.OW]);
  }

  /** dL/dx [N,C,H,W] from gradOut [N,OC,OH,OW]. */
  conv2dBackwardInput(p: Conv2dParams, gradOut: DeviceTensor, w: DeviceTensor): DeviceTensor {
    this.check(gradOut, 'conv2d gradOut', [p.N, p.OC, p.OH, p.OW]);
    this.check(w, 'conv2d weight', [p.OC, p.C / p.groups, p.KH, p.KW]);
    return this.enqueue(plans.conv2dBackwardInput(p), [gradOut, w], [p.N, p.C, p.H, p.W]);
  }

  /** dL/dw [OC,C/groups,KH,KW]. */
  conv2dBackwardWeight(p: Conv2dParams, x: DeviceTensor, gradOut: DeviceTensor): DeviceTensor {
    this.check(x, 'conv2d x', [p.N, p.C, p.H, p.W]);
    this.check(gradOut, 'conv2d gradOut', [p.N, p.OC, p.OH, p.OW]);
    return this.enqueue(plans.conv2dBackwardWeight(p), [x, gradOut], [p.OC, p.C / p.groups, p.KH, p.KW]);
  }

  /** dL/dbias [OC]. */
  conv2dBackwardBias(p: Conv2dParams, gradOut: DeviceTensor): DeviceTensor {
    this.check(gradOut, 'conv2d gradOut', [p.N, p.OC, p.OH, p.OW]);
    return this.enqueue(plans.conv2dBackwardBias(p), [gradOut], [p.OC]);
  }

  // ---- linear -------------------------------------------------------------

  /** x [N,K], w [OUT,K], bias [OUT] or null → [N,OUT]. */
  linear(p: LinearParams, x: DeviceTensor, w: DeviceTensor, bias: DeviceTensor | null): DeviceTensor {
    this.check(x, 'linear x');
    if (x.size !== p.N * p.K) throw new RangeError(`GpuDevice: linear x has ${x.size} values, expected ${p.N}x${p.K}`);
    this.check(w, 'linear weight', [p.OUT, p.K]);
    if (bias !== null) this.check(bias, 'linear bias', [p.OUT]);
    return this.enqueue(plans.linearForward(p), [x, w, bias ?? this.zerosOf(p.OUT)], [p.N, p.OUT]);
  }

  linearBackwardInput(p: LinearParams, gradOut: DeviceTensor, w: DeviceTensor): DeviceTensor {
    this.check(gradOut, 'linear gradOut', [p.N, p.OUT]);
    this.check(w, 'linear weight', [p.OUT, p.K]);
    return this.enqueue(plans.linearBackwardInput(p), [gradOut, w], [p.N, p.K]);
  }

  linearBackwardWeight(p: LinearParams, x: DeviceTensor, gradOut: DeviceTensor): DeviceTensor {
    this.check(x, 'linear x');
    this.check(gradOut, 'linear gradOut', [p.N, p.OUT]);
    return this.enqueue(plans.linearBackwardWeight(p), [x, gradOut], [p.OUT, p.K]);
  }

  linearBackwardBias(p: LinearParams, gradOut: DeviceTensor): DeviceTensor {
    this.check(gradOut, 'linear gradOut', [p.N, p.OUT]);
    return this.enqueue(plans.linearBackwardBias(p), [gradOut], [p.OUT]);
  }

  // ---- elementwise -------------------------------------------------------

  relu(x: DeviceTensor): DeviceTensor {
    this.check(x, 'relu x');
    return this.enqueue(plans.elementwise('relu', x.size), [x], x.shape);
  }

  /**
   * ReLU backward: gradOut where x > 0 (x = the ReLU's input or output, same
   * mask). With `guided`, the guided-backprop rule: gradOut where x > 0 AND
   * gradOut > 0.
   */
  reluBackward(x: DeviceTensor, gradOut: DeviceTensor, opts: { guided?: boolean } = {}): DeviceTensor {
    this.check(x, 'relu x');
    this.check(gradOut, 'relu gradOut', x.shape);
    const op = opts.guided === true ? 'reluBackwardGuided' : 'reluBackward';
    return this.enqueue(plans.elementwise(op, x.size), [x, gradOut], x.shape);
  }

  /** A copy with another shape of the same size (the result owns its own buffer). */
  reshape(x: DeviceTensor, shape: readonly number[]): DeviceTensor {
    this.check(x, 'reshape x');
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== x.size) throw new RangeError(`GpuDevice.reshape: [${x.shape.join(', ')}] → [${shape.join(', ')}] changes the size`);
    return this.enqueue({ op: 'copyDevice', output: [n], constants: {}, size: n }, [x], [...shape]);
  }

  add(a: DeviceTensor, b: DeviceTensor): DeviceTensor {
    this.check(a, 'add a');
    this.check(b, 'add b', a.shape);
    return this.enqueue(plans.elementwise('add', a.size), [a, b], a.shape);
  }

  /** a − b (same shape). */
  sub(a: DeviceTensor, b: DeviceTensor): DeviceTensor {
    this.check(a, 'sub a');
    this.check(b, 'sub b', a.shape);
    return this.enqueue(plans.elementwise('sub', a.size), [a, b], a.shape);
  }

  /** a · b (same shape). */
  mul(a: DeviceTensor, b: DeviceTensor): DeviceTensor {
    this.check(a, 'mul a');
    this.check(b, 'mul b', a.shape);
    return this.enqueue(plans.elementwise('mul', a.size), [a, b], a.shape);
  }

  /** a / b (same shape; webgpu: f32 division within WGSL's 2.5 ULP). */
  div(a: DeviceTensor, b: DeviceTensor): DeviceTensor {
    this.check(a, 'div a');
    this.check(b, 'div b', a.shape);
    return this.enqueue(plans.elementwise('div', a.size), [a, b], a.shape);
  }

  /**
   * x ∘ s: 'add' x + s, 'mul' x·s, 'rsub' s − x, 'div' x / s, 'rdiv' s / x.
   * `s` is rounded to f32 and passed as a kernel argument (one compiled kernel
   * per op and size, whatever the value); ±Infinity and NaN work.
   */
  scalarOp(op: ScalarOp, x: DeviceTensor, s: number): DeviceTensor {
    this.check(x, `scalarOp(${op}) x`);
    if (typeof s !== 'number') throw new TypeError(`GpuDevice.scalarOp(${op}): the scalar must be a number, got ${typeof s}`);
    return this.enqueue(plans.scalar(op, x.size, s), [x], x.shape);
  }

  /** −x. */
  neg(x: DeviceTensor): DeviceTensor {
    this.check(x, 'neg x');
    return this.enqueue(plans.elementwise('neg', x.size), [x], x.shape);
  }

  /**
   * Clamps into [lo, hi] (null: unbounded on that side; at least one bound):
   * `v < lo ? lo : v`, then `> hi ? hi : …`, like the CPU op, so NaN passes
   * through (PyTorch), lo > hi gives hi everywhere, and a NaN bound is never
   * applied (its comparison is false).
   */
  clamp(x: DeviceTensor, lo: number | null, hi: number | null): DeviceTensor {
    this.check(x, 'clamp x');
    if (lo === null && hi === null) throw new RangeError('GpuDevice.clamp: at least one of lo and hi must be given');
    return this.enqueue(plans.clamp(x.size, lo, hi), [x], x.shape);
  }

  /**
   * The backward mask of clamp/relu: g[i] where lo ≤ x[i] ≤ hi (`inclusive`),
   * or where x[i] > lo (not inclusive; `hi` ignored), else 0. Bounds may be
   * ±Infinity (passed as kernel arguments, exact); where x is NaN the result is 0.
   */
  mask(x: DeviceTensor, g: DeviceTensor, lo: number, hi: number, inclusive: boolean): DeviceTensor {
    this.check(x, 'mask x');
    this.check(g, 'mask g', x.shape);
    return this.enqueue(plans.mask(x.size, lo, hi, inclusive), [x, g], x.shape);
  }

  /** A new tensor of `shape` holding `value` everywhere (rounded to f32; ±Infinity and NaN work). */
  fill(shape: readonly number[], value: number): DeviceTensor {
    if (this.destroyed) throw new Error('GpuDevice: destroyed');
    const n = shape.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`GpuDevice.fill: shape [${shape.join(', ')}] must have a positive size`);
    return this.enqueue(plans.fill(n, value), [], [...shape]);
  }

  /** x [R, C] → xᵀ [C, R] (a copy). */
  transpose2d(x: DeviceTensor): DeviceTensor {
    this.check(x, 'transpose2d x');
    if (x.shape.length !== 2) throw new RangeError(`GpuDevice.transpose2d: expected a 2-D tensor, got shape [${x.shape.join(', ')}]`);
    const [R, C] = x.shape as [number, number];
    return this.enqueue(plans.transpose2d(R, C), [x], [C, R]);
  }

  /** A device-to-device copy of `x` with the same shape (owns its own buffer). */
  copy(x: DeviceTensor): DeviceTensor {
    this.check(x, 'copy x');
    return this.enqueue(plans.elementwise('copyDevice', x.size), [x], x.shape);
  }

  /**
   * A handle of another shape (same size) that SHARES x's buffer: no kernel,
   * no copy. The alias has x's `_raw` and the very same `_uses` array, so
   * x's owner waits for work enqueued on the alias before releasing the
   * buffer. Disposing the alias releases nothing; disposing the owner
   * disposes the alias too (using it afterwards throws). Aliases of aliases
   * point at the one owner. Buffers are never written after creation, so
   * sharing is safe.
   */
  alias(x: DeviceTensor, shape: readonly number[]): DeviceTensor {
    this.check(x, 'alias x');
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== x.size) throw new RangeError(`GpuDevice.alias: [${x.shape.join(', ')}] → [${shape.join(', ')}] changes the size`);
    return new DeviceTensor(this, [...shape], x._raw, x._owner ?? x);
  }

  /**
   * Constant padding of the last two dims, PyTorch's order [left, right, top,
   * bottom]; negative amounts crop. The backward pass of `pad(x, [l,r,t,b])`
   * is `pad(gradOut, [-l,-r,-t,-b], 0)`.
   */
  pad(x: DeviceTensor, pad: readonly [number, number, number, number], value = 0): DeviceTensor {
    this.check(x, 'pad x');
    const [N, C, H, W] = nchw(x.shape, 'pad');
    const plan = plans.pad2d(N, C, H, W, pad, value);
    return this.enqueue(plan, [x], [...x.shape.slice(0, -2), H + pad[2] + pad[3], W + pad[0] + pad[1]]);
  }

  padBackward(gradOut: DeviceTensor, pad: readonly [number, number, number, number]): DeviceTensor {
    return this.pad(gradOut, [-pad[0], -pad[1], -pad[2], -pad[3]], 0);
  }

  // ---- pooling ----------------------------------------------------------------

  maxPool2d(p: Pool2dParams, x: DeviceTensor): MaxPoolResult {
    this.check(x, 'max_pool2d x', [p.N, p.C, p.H, p.W]);
    const shape = [p.N, p.C, p.OH, p.OW];
    return {
      out: this.enqueue(plans.maxPool2d('maxPool2dForward', p), [x], shape),
      argmax: this.enqueue(plans.maxPool2d('maxPool2dArgmax', p), [x], shape),
    };
  }

  maxPool2dBackward(p: Pool2dParams, gradOut: DeviceTensor, argmax: DeviceTensor): DeviceTensor {
    const shape = [p.N, p.C, p.OH, p.OW];
    this.check(gradOut, 'max_pool2d gradOut', shape);
    this.check(argmax, 'max_pool2d argmax', shape);
    return this.enqueue(plans.maxPool2dBackward(p), [gradOut, argmax], [p.N, p.C, p.H, p.W]);
  }

  avgPool2d(p: Pool2dParams, o: AvgPool2dOptions, x: DeviceTensor): DeviceTensor {
    this.check(x, 'avg_pool2d x', [p.N, p.C, p.H, p.W]);
    return this.enqueue(plans.avgPool2dForward(p, o), [x], [p.N, p.C, p.OH, p.OW]);
  }

  avgPool2dBackward(p: Pool2dParams, o: AvgPool2dOptions, gradOut: DeviceTensor): DeviceTensor {
    this.check(gradOut, 'avg_pool2d gradOut', [p.N, p.C, p.OH, p.OW]);
    return this.enqueue(plans.avgPool2dBackward(p, o), [gradOut], [p.N, p.C, p.H, p.W]);
  }

  adaptiveAvgPool2d(p: AdaptivePool2dParams, x: DeviceTensor): DeviceTensor {
    this.check(x, 'adaptive_avg_pool2d x', [p.N, p.C, p.H, p.W]);
    return this.enqueue(plans.adaptiveAvgPool2dForward(p), [x], [p.N, p.C, p.OH, p.OW]);
  }

  adaptiveAvgPool2dBackward(p: AdaptivePool2dParams, gradOut: DeviceTensor): DeviceTensor {
    this.check(gradOut, 'adaptive_avg_pool2d gradOut', [p.N, p.C, p.OH, p.OW]);
    return this.enqueue(plans.adaptiveAvgPool2dBackward(p), [gradOut], [p.N, p.C, p.H, p.W]);
  }

  // ---- batch norm (inference) ------------------------------------------------

  /** Eval-mode batch norm with running statistics (folded to scale/shift per channel on the host). */
  batchNorm2dEval(x: DeviceTensor, s: BatchNormStats): DeviceTensor {
    this.check(x, 'batch_norm x');
    const [N, C, H, W] = nchw(x.shape, 'batch_norm');
    const f = foldBatchNorm(C, s.eps, s.runningMean, s.runningVar, s.weight, s.bias);
    const scale = this.upload(f.scale, [C]), shift = this.upload(f.shift, [C]);
    const out = this.enqueue(plans.channelAffine(N, C, H, W), [x, scale, shift], x.shape);
    scale.dispose();
    shift.dispose();
    return out;
  }

  /**
   * Backward of eval-mode batch norm: gradX = gradOut·weight·invstd, and when
   * asked, gradWeight = invstd·Σ gradOut·(x−mean), gradBias = Σ gradOut.
   */
  batchNorm2dBackwardEval(
    gradOut: DeviceTensor, x: DeviceTensor, s: BatchNormStats, want: { weight?: boolean; bias?: boolean } = {},
  ): { gradX: DeviceTensor; gradWeight: DeviceTensor | null; gradBias: DeviceTensor | null } {
    this.check(x, 'batch_norm x');
    this.check(gradOut, 'batch_norm gradOut', x.shape);
    const [N, C, H, W] = nchw(x.shape, 'batch_norm');
    const f = foldBatchNorm(C, s.eps, s.runningMean, s.runningVar, s.weight, s.bias);
    const scale = this.upload(f.scale, [C]);
    const gradX = this.enqueue(plans.channelScale(N, C, H, W), [gradOut, scale], x.shape);
    scale.dispose();
    let gradWeight: DeviceTensor | null = null, gradBias: DeviceTensor | null = null;
    if (want.weight === true) {
      const mean = this.upload(s.runningMean, [C]), invstd = this.upload(f.invstd, [C]);
      gradWeight = this.enqueue(plans.channelDot(N, C, H, W), [gradOut, x, mean, invstd], [C]);
      mean.dispose();
      invstd.dispose();
    }
    if (want.bias === true) gradBias = this.enqueue(plans.channelSum(N, C, H, W), [gradOut], [C]);
    return { gradX, gradWeight, gradBias };
  }

  /** Number of compiled kernels (one per op and shape). */
  get kernelCount(): number {
    return (this.exec as unknown as { cache: { size: number } }).cache.size;
  }

  /** Runs a raw op from `sources.ts` (for tests and experiments). @internal */
  _run(op: KernelOp, output: number[], constants: Constants, inputs: DeviceTensor[], shape: number[]): DeviceTensor {
    if (!(op in SRC)) throw new Error(`unknown op ${op}`);
    const size = output.reduce((a, b) => a * b, 1);
    return this.enqueue({ op, output, constants, size }, inputs, shape);
  }
}

function nchw(shape: readonly number[], what: string): [number, number, number, number] {
  if (shape.length !== 4) throw new RangeError(`GpuDevice.${what}: expected an NCHW tensor, got shape [${shape.join(', ')}]`);
  return [shape[0]!, shape[1]!, shape[2]!, shape[3]!];
}

export { describeAdapter };
