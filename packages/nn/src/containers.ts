/** Container modules: Sequential, ModuleList, ModuleDict. */
import type { Tensor } from '@gradlens/core';
import { Module, type AnyModule } from './module.ts';

function normIndex(idx: number, len: number, what: string): number {
  if (!Number.isInteger(idx) || idx < -len || idx >= len) throw new RangeError(`index ${idx} is out of range`);
  void what;
  return idx < 0 ? idx + len : idx;
}

/**
 * Modules applied in order (`nn.Sequential`). Index with `seq.at(i)` (negative counts from the end)
 * or `seq[i]`; iterate with `for..of`; `length`; `slice(a, b)` gives a new Sequential.
 */
export class Sequential extends Module {
  [index: number]: Module;

  constructor(...modules: AnyModule[]);
  constructor(modules: Record<string, AnyModule>);
  constructor(...args: AnyModule[] | [Record<string, AnyModule>]) {
    super();
    const first = args[0];
    if (args.length === 1 && first !== undefined && !(first instanceof Module)) {
      for (const [k, m] of Object.entries(first as Record<string, AnyModule>)) this.add_module(k, m);
    } else (args as AnyModule[]).forEach((m, i) => this.add_module(String(i), m));
  }

  override get length(): number {
    return this._childList().length;
  }

  /** The i-th module (negative counts from the end). */
  at(i: number): Module {
    const list = this._childList();
    return list[normIndex(i, list.length, 'Sequential')]!;
  }

  private _childList(): Module[] {
    return Object.values(this._modules).filter((m): m is Module => m !== null);
  }

  /** A new Sequential of modules `start..end` (Python slicing), keeping their names. */
  slice(start = 0, end?: number): Sequential {
    const entries = Object.entries(this._modules).filter(([, m]) => m !== null) as [string, Module][];
    const picked = entries.slice(start, end);
    const out = new Sequential();
    for (const [k, m] of picked) out.add_module(k, m);
    return out;
  }

  /** Appends a module at the end. */
  append(module: AnyModule): this {
    this.add_module(String(Object.keys(this._modules).length), module);
    return this;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this._childList()[Symbol.iterator]();
  }

  forward(input: Tensor): Tensor {
    let x: unknown = input;
    for (const m of this._childList()) x = (m as unknown as (a: unknown) => unknown)(x);
    return x as Tensor;
  }
}

/** A list of submodules (`nn.ModuleList`), registered as `'0'`, `'1'`, ...; not callable itself. */
export class ModuleList<M extends AnyModule = Module> extends Module<never, never> {
  [index: number]: M;

  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }

  private _list(): M[] {
    return Object.values(this._modules) as unknown as M[];
  }

  override get length(): number {
    return this._list().length;
  }

  at(i: number): M {
    const l = this._list();
    return l[normIndex(i, l.length, 'ModuleList')]!;
  }

  /** Replaces the module at index `i`. */
  set(i: number, module: M): void {
    const l = this._list();
    this.add_module(String(normIndex(i, l.length, 'ModuleList')), module);
  }

  append(module: M): this {
    this.add_module(String(this._list().length), module);
    return this;
  }

  extend(modules: Iterable<M>): this {
    for (const m of modules) this.append(m);
    return this;
  }

  insert(index: number, module: M): void {
    const l = this._list();
    const i = Math.max(0, Math.min(index < 0 ? index + l.length : index, l.length));
    for (let k = 0; k < l.length; k++) this._unregister(String(k));
    const next = [...l.slice(0, i), module, ...l.slice(i)];
    next.forEach((m, k) => this.add_module(String(k), m));
  }

  [Symbol.iterator](): Iterator<M> {
    return this._list()[Symbol.iterator]();
  }
}

/** A string-keyed dict of submodules (`nn.ModuleDict`): `get`, `set`, `keys`, `values`, `items`. */
export class ModuleDict<M extends AnyModule = Module> extends Module<never, never> {
  constructor(modules: Record<string, M> | Iterable<[string, M]> = {}) {
    super();
    this.update(modules);
  }

  protected override _exposeAttributes(): boolean {
    return false;
  }

  get(key: string): M {
    const m = this._modules[key];
    if (m === undefined) throw new Error(`KeyError: '${key}'`);
    return m as unknown as M;
  }

  set(key: string, module: M): void {
    this.add_module(key, module);
  }

  has(key: string): boolean {
    return key in this._modules;
  }

  delete(key: string): M {
    const m = this.get(key);
    this._unregister(key);
    return m;
  }

  /** Alias of `delete`, as Python's `pop`. */
  pop(key: string): M {
    return this.delete(key);
  }

  clear(): void {
    for (const k of this.keys()) this._unregister(k);
  }

  update(modules: Record<string, M> | Iterable<[string, M]>): void {
    const entries = Symbol.iterator in modules ? [...(modules as Iterable<[string, M]>)] : Object.entries(modules as Record<string, M>);
    for (const [k, m] of entries) this.add_module(k, m);
  }

  keys(): string[] {
    return Object.keys(this._modules);
  }

  values(): M[] {
    return Object.values(this._modules) as unknown as M[];
  }

  items(): [string, M][] {
    return Object.entries(this._modules) as unknown as [string, M][];
  }

  override get length(): number {
    return this.keys().length;
  }

  [Symbol.iterator](): Iterator<string> {
    return this.keys()[Symbol.iterator]();
  }
}
