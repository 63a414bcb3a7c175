import { set_grad_enabled } from '../grad_mode.ts';
import { formatShape, sameShape } from '../shape.ts';
import { Tensor } from '../tensor.ts';
import { add } from '../ops/pointwise.ts';
import { deviceFull } from '../device/ops.ts';
import { gradientEdge } from './gradient_edge.ts';
import { hookName } from './removable_handle.ts';
import { Node, type Edge, type Grads, type TensorMeta } from './node.ts';

/** How a backward pass runs; shared by `Tensor.backward`, `autograd.backward` and `autograd.grad`. */
export interface RunOptions {
  retainGraph: boolean;
  createGraph: boolean;
  /** Restrict the pass to gradients of these tensors. */
  inputs?: Tensor[];
  /** true: accumulate into `.grad` (backward); false: only return the inputs' gradients (autograd.grad). */
  accumulate: boolean;
  allowUnused?: boolean;
}

/** Max-heap of ready nodes by priority (AccumulateGrad first, then most recently created). */
class ReadyQueue {
  private readonly heap: Node[] = [];
  constructor(private readonly priority: (n: Node) => number) {}
  get length(): number {
    return this.heap.length;
  }
  push(n: Node): void {
    const h = this.heap;
    h.push(n);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.priority(h[p]!) >= this.priority(h[i]!)) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }
  pop(): Node {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.priority(h[l]!) > this.priority(h[m]!)) m = l;
        if (r < h.length && this.priority(h[r]!) > this.priority(h[m]!)) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}

let accumulateGradClass: (abstract new (...args: never[]) => Node) | null = null;

/** @internal Lets the engine recognise AccumulateGrad nodes without an import cycle. */
export function setAccumulateGradClass(cls: abstract new (...args: never[]) => Node): void {
  accumulateGradClass = cls;
}

function isAccumulator(n: Node): boolean {
  return accumulateGradClass !== null && n instanceof accumulateGradClass;
}

/** Checks a hook's replacement gradient against what the slot expects; errors name the hook. */
export function checkReplacement(hook: unknown, value: Tensor, expected: TensorMeta | null, index: number): void {
  if (!(value instanceof Tensor)) {
    throw new TypeError(`hook '${hookName(hook)}' has returned a value that is not a Tensor or null at index ${index}`);
  }
  const device = expected?.device?.name ?? 'cpu';
  if (expected && value.device !== device) {
    throw new Error(`hook '${hookName(hook)}' has changed the device of value ${index}: expected ${device}, got ${value.device}`);
  }
  if (expected && !sameShape(value.shape, expected.shape)) {
    throw new Error(
      `hook '${hookName(hook)}' has changed the size of value ${index}: expected ${formatShape(expected.shape)}, got ${formatShape(value.shape)}`,
    );
  }
}

function checkReplacementList(hook: unknown, values: unknown, expected: (TensorMeta | null)[]): Grads {
  if (!Array.isArray(values)) {
    throw new TypeError(`hook '${hookName(hook)}' must return an array of gradients (or nothing), got ${typeof values}`);
  }
  if (values.length !== expected.length) {
    throw new Error(
      `hook '${hookName(hook)}' has returned an incorrect number of values (got ${values.length}, but expected ${expected.length})`,
    );
  }
  return values.map((v, i) => {
    if (v === null || v === undefined) return null;
    checkReplacement(hook, v as Tensor, expected[i] ?? null, i);
    return v as Tensor;
  });
}

/**
 * Marks gradients a user hook has seen (or returned): the user may keep them, so AccumulateGrad
 * must copy rather than adopt them as a leaf's `.grad` (PyTorch decides this by reference count).
 */
function exposed<T extends Tensor | null | undefined>(grads: readonly T[]): readonly T[] {
  for (const g of grads) if (g) g._claimedAsGrad = true;
  return grads;
}

/** Runs the tensor hooks of a node's slots, then retain_grad hooks, mutating `buffer`. */
function runTensorPreHooks(node: Node, buffer: Grads): void {
  for (const [slot, hooks] of node.tensorPreHooks) {
    for (const hook of hooks) {
      const g = buffer[slot];
      if (g === null || g === undefined) break;
      const r = hook(g);
      exposed([g]);
      if (r !== undefined && r !== null) {
        checkReplacement(hook, r, node.outputMeta[slot] ?? null, slot);
        buffer[slot] = exposed([r])[0]!;
      }
    }
  }
  for (const [slot, hook] of node.retainGradHooks) {
    const g = buffer[slot];
    if (g) hook(g);
  }
}

function runNode(node: Node, buffer: Grads): Grads {
  for (const hook of node.preHooks) {
    const r = hook(exposed(buffer).slice());
    if (r !== undefined && r !== null) buffer = exposed(checkReplacementList(hook, r, node.outputMeta)).slice();
  }
  let gradInputs = buffer.every((g) => g === null) ? node.nextEdges.map(() => null) : node.apply(buffer);
  if (gradInputs.length !== node.nextEdges.length) {
    throw new Error(
      `function ${node.name()} returned an incorrect number of gradients (expected ${node.nextEdges.length}, got ${gradInputs.length})`,
    );
  }
  for (const hook of node.postHooks) {
    const r = hook(exposed(gradInputs).slice(), exposed(buffer).slice());
    if (r !== undefined && r !== null) gradInputs = exposed(checkReplacementList(hook, r, node.inputMeta)).slice();
  }
  return gradInputs;
}

/** Nodes reachable from `roots`, with how many edges point at each (the engine's dependency count). */
function countDependencies(roots: Node[]): Map<Node, number> {
  const deps = new Map<Node, number>();
  const seen = new Set<Node>(roots);
  const stack = [...roots];
  while (stack.length) {
    const n = stack.pop()!;
    for (const e of n.nextEdges) {
      if (!e.node) continue;
      deps.set(e.node, (deps.get(e.node) ?? 0) + 1);
      if (!seen.has(e.node)) {
        seen.add(e.node);
        stack.push(e.node);
      }
    }
  }
  return deps;
}

/** Nodes with a path to a target (so they must run); iterative post-order so deep graphs don't overflow. */
function nodesLeadingTo(roots: Node[], targets: Set<Node>): Set<Node> {
  const leads = new Set<Node>();
  const state = new Map<Node, number>(); // 1 = visiting, 2 = done
  for (const root of roots) {
    const stack: [Node, number][] = [[root, 0]];
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [n, i] = top;
      if (i === 0) {
        if (state.get(n) === 2) {
          stack.pop();
          continue;
        }
        state.set(n, 1);
      }
      if (i < n.nextEdges.length) {
        top[1]++;
        const child = n.nextEdges[i]!.node;
        if (child && !state.has(child)) stack.push([child, 0]);
        continue;
      }
      stack.pop();
      state.set(n, 2);
      if (n.nextEdges.some((e) => e.node !== null && (targets.has(e.node) || leads.has(e.node)))) {
        leads.add(n);
      }
    }
  }
  return leads;
}

function rootGradient(root: Tensor, grad: Tensor | null, index: number, createGraph: boolean): Tensor {
  if (grad === null) {
    if (root.numel() !== 1) throw new Error('grad can be implicitly created only for scalar outputs');
    if (root._dev !== null) return deviceFull(root._dev.backend, root.shape, 1);
    const one = Tensor._zeros(root.shape, root.dtype);
    one._nd.data[0] = 1;
    return one;
  }
  if (grad.device !== root.device) {
    throw new Error(`invalid gradient at index ${index} - expected device ${root.device} but got ${grad.device}`);
  }
  if (!sameShape(grad.shape, root.shape)) {
    throw new Error(
      `Mismatch in shape: grad_output[${index}] has a shape of ${formatShape(grad.shape)} and output[${index}] has a shape of ${formatShape(root.shape)}.`,
    );
  }
  // create_graph: the result must stay differentiable w.r.t. grad_outputs (AccumulateGrad copies then).
  if (createGraph) return grad;
  // A user's gradient may end up as a leaf's .grad: never alias it.
  const owned = grad.detach();
  owned._claimedAsGrad = true;
  return owned;
}

/**
 * The autograd engine: propagates gradients from `roots` through the graph in dependency order,
 * running tensor hooks, node pre-hooks, the node, then node post-hooks, as PyTorch does.
 * Returns the gradients of `opts.inputs` when `accumulate` is false.
 */
export function runBackward(roots: Tensor[], rootGrads: (Tensor | null)[], opts: RunOptions): (Tensor | null)[] {
  const buffers = new Map<Node, Grads>();
  const rootNodes: Node[] = [];
  const addToBuffer = (edge: Edge, g: Tensor): void => {
    const node = edge.node!;
    let buf = buffers.get(node);
    if (!buf) {
      buf = node.outputMeta.map(() => null);
      buffers.set(node, buf);
    }
    const prev = buf[edge.inputNr];
    buf[edge.inputNr] = prev ? add(prev, g) : g;
  };

  roots.forEach((root, i) => {
    const edge = gradientEdge(root);
    if (!edge.node) throw new Error(`element ${i} of tensors does not require grad and does not have a grad_fn`);
    const g = rootGradient(root, rootGrads[i] ?? null, i, opts.createGraph);
    set_grad_enabled(opts.createGraph, () => addToBuffer(edge, g));
    if (!rootNodes.includes(edge.node)) rootNodes.push(edge.node);
  });

  // Which slots to capture, and which nodes must actually run.
  const captures = new Map<Node, Map<number, number[]>>();
  const inputEdges = (opts.inputs ?? []).map((t, i) => {
    const edge = gradientEdge(t);
    if (!edge.node) throw new Error(`One of the differentiated Tensors (index ${i}) does not require grad`);
    let slots = captures.get(edge.node);
    if (!slots) captures.set(edge.node, (slots = new Map()));
    slots.set(edge.inputNr, [...(slots.get(edge.inputNr) ?? []), i]);
    return edge;
  });
  const results: (Tensor | null)[] = inputEdges.map(() => null);
  const targets = new Set(captures.keys());
  const mustRun = opts.inputs ? nodesLeadingTo(rootNodes, targets) : null;
  const shouldExecute = (n: Node): boolean => {
    if (isAccumulator(n)) return opts.accumulate && (mustRun === null || targets.has(n));
    return mustRun === null || mustRun.has(n);
  };

  const deps = countDependencies(rootNodes);
  const ready = new ReadyQueue((n) => (isAccumulator(n) ? Infinity : n.sequence_nr));
  for (const n of rootNodes) if (!deps.get(n)) ready.push(n);

  set_grad_enabled(opts.createGraph, () => {
    while (ready.length) {
      const node = ready.pop();
      const buffer = buffers.get(node) ?? node.outputMeta.map(() => null);
      buffers.delete(node);
      const execute = shouldExecute(node);
      const captured = captures.get(node);
      // As PyTorch: a node that neither runs nor is captured (e.g. a leaf outside autograd.grad's
      // inputs) does not fire its tensors' hooks.
      if (execute || captured) runTensorPreHooks(node, buffer);
      captured?.forEach((indices, slot) => {
        for (const i of indices) results[i] = buffer[slot] ?? null;
      });
      const gradInputs = execute ? runNode(node, buffer) : null;
      if (execute && !opts.retainGraph) node.release();
      node.nextEdges.forEach((edge, i) => {
        if (!edge.node) return;
        const g = gradInputs?.[i];
        if (g) addToBuffer(edge, g);
        const left = deps.get(edge.node)! - 1;
        deps.set(edge.node, left);
        if (left === 0) ready.push(edge.node);
      });
    }
  });

  if (opts.accumulate) {
    // backward(inputs=[non_leaf]) fills that tensor's .grad, as PyTorch does.
    opts.inputs?.forEach((t, i) => {
      const g = results[i];
      if (!t.is_leaf && g) t._grad = t._grad ? add(t._grad.detach(), g.detach()) : g.detach();
    });
  } else if (!opts.allowUnused) {
    results.forEach((r, i) => {
      if (r === null) {
        throw new Error(
          `One of the differentiated Tensors (index ${i}) appears to not have been used in the graph. Set allow_unused: true if this is the desired behavior.`,
        );
      }
    });
  }
  return results;
}
