/**
 * Worker thread: loads the model once (from `workerData`), then processes the
 * images the main thread sends, one at a time. Protocol:
 *   worker → main: {type:'ready', load_ms} | {type:'load_error', error}
 *   main → worker: {type:'run', id, item} | {type:'stop'}
 *   worker → main: {type:'done', id, result} | {type:'failed', id, error}
 */
import { parentPort, workerData } from 'node:worker_threads';

import { to_error_info } from './errors.ts';
import type { ErrorInfo } from './errors.ts';
import { load_model_context } from './model_context.ts';
import { resolve_device } from './nn_api.ts';
import type { ModelContext } from './model_context.ts';
import { run_image } from './run_image.ts';
import type { ImageResult } from './run_image.ts';
import type { InputItem } from './inputs.ts';
import { install_warning_handler } from './warnings.ts';
import type { RunConfig } from './setup.ts';

export type ToWorker = { type: 'run'; id: number; item: InputItem } | { type: 'stop' };
export type FromWorker =
  | { type: 'ready'; load_ms: number; weights: string }
  | { type: 'load_error'; error: ErrorInfo }
  | { type: 'done'; id: number; result: ImageResult }
  | { type: 'failed'; id: number; error: ErrorInfo }
  | { type: 'warning'; line: string };

export interface WorkerInit {
  config: RunConfig;
}

if (parentPort) {
  const port = parentPort;
  const { config } = workerData as WorkerInit;
  let ctx: ModelContext | null = null;
  let current: string | null = null;
  install_warning_handler({
    verbose: config.verbose,
    current: () => current,
    print: (line) => port.postMessage({ type: 'warning', line } satisfies FromWorker),
  });
  // The main thread sends images only after 'ready'.
  void (async (): Promise<void> => {
    try {
      await resolve_device(config.device); // loads an optional backend (gpujs-webasm) in this thread
      ctx = load_model_context(config);
      port.postMessage({ type: 'ready', load_ms: ctx.load_ms, weights: ctx.weights } satisfies FromWorker);
    } catch (e) {
      port.postMessage({ type: 'load_error', error: to_error_info(e, 'model') } satisfies FromWorker);
    }
  })();
  port.on('message', async (msg: ToWorker) => {
    if (msg.type === 'stop' || ctx === null) {
      port.close();
      return;
    }
    current = msg.item.image;
    let reply: FromWorker;
    try {
      reply = { type: 'done', id: msg.id, result: await run_image(ctx, msg.item, config) };
    } catch (e) {
      reply = { type: 'failed', id: msg.id, error: to_error_info(e, 'image') };
    }
    // process warnings are emitted on the next tick: let them go out (attributed) first
    setImmediate(() => {
      current = null;
      port.postMessage(reply);
    });
  });
}
