/** Global gradient mode, as torch.no_grad / enable_grad / set_grad_enabled. */
let gradEnabled = true;

/** Whether operations are currently recorded for autograd. */
export function is_grad_enabled(): boolean {
  return gradEnabled;
}

/**
 * `set_grad_enabled(false)` switches grad mode globally (like calling the PyTorch function);
 * `set_grad_enabled(mode, fn)` runs `fn` in that mode and restores the previous one (like the context manager).
 */
export function set_grad_enabled(mode: boolean): void;
export function set_grad_enabled<T>(mode: boolean, fn: () => T): T;
export function set_grad_enabled<T>(mode: boolean, fn?: () => T): T | void {
  if (!fn) {
    gradEnabled = mode;
    return;
  }
  const prev = gradEnabled;
  gradEnabled = mode;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs `fn` without recording operations for autograd (`with torch.no_grad():`). */
export function no_grad<T>(fn: () => T): T {
  return set_grad_enabled(false, fn);
}

/** Runs `fn` with gradient recording on, even inside `no_grad` (`with torch.enable_grad():`). */
export function enable_grad<T>(fn: () => T): T {
  return set_grad_enabled(true, fn);
}
