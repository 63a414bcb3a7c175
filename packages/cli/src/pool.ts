/**
 * Runs images on `jobs` worker threads, each of which loads the model once.
 * A worker that crashes fails the image it was on and is replaced; a model that
 * cannot be loaded stops everything (rejects with {@link ModelLoadError}).
 */
import { Worker } from 'node:worker_threads';

import { ModelLoadError } from './errors.ts';
import type { ErrorInfo } from './errors.ts';
import type { ImageResult } from './run_image.ts';
import type { InputItem } from './inputs.ts';
import type { RunConfig } from './setup.ts';
import type { FromWorker, ToWorker, WorkerInit } from './worker.ts';

export interface PoolEvents {
  ready?(load_ms: number, weights: string): void;
  start(id: number): void;
  done(id: number, result: ImageResult): void;
  failed(id: number, error: ErrorInfo): void;
  warning(line: string): void;
}

interface Slot {
  worker: Worker;
  busy: number | null;
  crash: string | null;
  ready: boolean;
}

/** Carries the stack of the worker's load failure for `--debug`. */
export class WorkerModelLoadError extends ModelLoadError {
  constructor(
    message: string,
    readonly details: string | undefined,
  ) {
    super(message);
  }
}

export function run_pool(config: RunConfig, items: readonly InputItem[], ids: readonly number[], jobs: number, events: PoolEvents): Promise<void> {
  const url = new URL('./worker_boot.mjs', import.meta.url);
  const queue = [...ids];
  const slots = new Set<Slot>();
  let finished = false;
  let respawns = 0;
  let anyReady = false;

  return new Promise<void>((resolve, reject) => {
    const stopAll = (): void => {
      for (const s of slots) void s.worker.terminate();
    };
    const checkDone = (): void => {
      if (finished || slots.size > 0) return;
      finished = true;
      for (const id of queue.splice(0)) events.failed(id, { kind: 'internal', message: 'no worker left to process it' });
      resolve();
    };
    const next = (s: Slot): void => {
      const id = queue.shift();
      if (id === undefined) {
        s.worker.postMessage({ type: 'stop' } satisfies ToWorker);
        return;
      }
      s.busy = id;
      events.start(id);
      s.worker.postMessage({ type: 'run', id, item: items[id]! } satisfies ToWorker);
    };
    const spawn = (): void => {
      const worker = new Worker(url, { workerData: { config } satisfies WorkerInit });
      const s: Slot = { worker, busy: null, crash: null, ready: false };
      slots.add(s);
      worker.on('message', (m: FromWorker) => {
        if (finished) return;
        switch (m.type) {
          case 'ready':
            s.ready = true;
            anyReady = true;
            events.ready?.(m.load_ms, m.weights);
            next(s);
            break;
          case 'load_error':
            finished = true;
            stopAll();
            reject(new WorkerModelLoadError(m.error.message, m.error.stack));
            break;
          case 'done':
            s.busy = null;
            events.done(m.id, m.result);
            next(s);
            break;
          case 'failed':
            s.busy = null;
            events.failed(m.id, m.error);
            next(s);
            break;
          case 'warning':
            events.warning(m.line);
            break;
        }
      });
      worker.on('error', (err) => {
        s.crash = err instanceof Error ? (err.stack ?? err.message) : String(err);
      });
      worker.on('exit', (code) => {
        slots.delete(s);
        if (finished) return;
        if (!s.ready && !anyReady) {
          // the very first workers cannot even start: nothing will work, stop here
          finished = true;
          stopAll();
          const first = s.crash ? s.crash.split('\n')[0] : `exit code ${code}`;
          reject(Object.assign(new Error(`a worker thread failed to start (${first})`), { details: s.crash ?? undefined }));
          return;
        }
        if (s.busy !== null) {
          const why = s.crash ? s.crash.split('\n')[0] : `exit code ${code}`;
          events.failed(s.busy, { kind: 'internal', message: `the worker processing it crashed (${why})`, stack: s.crash ?? undefined });
          s.busy = null;
        }
        if (queue.length > 0 && slots.size < jobs && respawns < items.length) {
          respawns++;
          spawn();
        }
        checkDone();
      });
    };
    const n = Math.max(1, Math.min(jobs, queue.length));
    if (queue.length === 0) {
      resolve();
      return;
    }
    for (let i = 0; i < n; i++) spawn();
  });
}
