/**
 * `gbp`: guided-backpropagation saliency maps from the command line.
 * `pnpm gbp <image...|folder> [options]`; see `--help` (args.ts).
 * Exit codes: 0 success, 1 some image failed, 2 usage error (bad options, labels,
 * target, or weights that cannot be loaded into the architecture).
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { HELP_TEXT, parse_args, resolve_jobs, UsageError } from './args.ts';
import { describe_error, error_details, ModelLoadError, to_error_info } from './errors.ts';
import type { ErrorInfo } from './errors.ts';
import { format_ms, format_result } from './output.ts';
import { Progress } from './progress.ts';
import type { ProgressStream } from './progress.ts';
import type { ImageResult } from './run_image.ts';
import { install_warning_handler } from './warnings.ts';

export interface MainIO {
  stdout: ProgressStream;
  stderr: ProgressStream;
}

type Outcome = { ok: true; result: ImageResult } | { ok: false; error: ErrorInfo };

/** Runs the CLI and returns the exit code. */
export async function main(argv: readonly string[], io: MainIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const debug = argv.includes('--debug');
  const eline = (s: string): void => void io.stderr.write(`${s}\n`);
  try {
    const parsed = parse_args(argv);
    if (parsed.help) {
      io.stdout.write(HELP_TEXT);
      return 0;
    }
    const t_start = performance.now();
    // The model stack is imported only now, so --help and option errors stay instant.
    const { setup } = await import('./setup.ts');
    const { config, items } = setup(parsed);
    let jobs = resolve_jobs(parsed.jobs, items.filter((it) => !it.error).length);
    const verbose = (s: string): void => {
      if (parsed.verbose) progress.eprint(`gbp: ${s}`);
    };
    // --device: load the backend, resolve `auto` (once, here: the workers get the concrete name)
    const { select_device } = await import('./nn_api.ts');
    let device;
    try {
      device = await select_device(parsed.device);
    } catch (e) {
      throw new ModelLoadError(`--device ${parsed.device}: ${describe_error(e)}`);
    }
    config.device = device.device;
    // a device holds its own memory: one process drives it (workers would each open one)
    if (device.resident && jobs > 1) {
      verbose(`--jobs ${jobs} → 1: ${device.device} runs in this process`);
      jobs = 1;
    }
    const why = parsed.device === 'auto' ? `auto: ${device.reason}` : parsed.device === 'cpu' ? 'default' : `--device ${parsed.device}`;
    const device_line = `backend ${device.device} (${why}); adapter ${device.adapter_name ?? 'none'}`;

    const outcomes: (Outcome | undefined)[] = new Array(items.length);
    let printed = 0;
    let failures = 0;
    const progress = new Progress(items.length, io.stderr, io.stdout);
    let current: string | null = null;
    install_warning_handler({ verbose: parsed.verbose, current: () => current, print: (l) => progress.eprint(l) });
    verbose(device_line);

    // Results are printed in input order, as soon as all earlier ones are in.
    const flush = (): void => {
      while (printed < items.length && outcomes[printed] !== undefined) {
        const o = outcomes[printed]!;
        const item = items[printed]!;
        if (o.ok) {
          progress.print(parsed.json ? JSON.stringify(o.result) : format_result(o.result, config.method));
        } else {
          const msg = o.error.message.includes(item.image) ? o.error.message : `${item.image}: ${o.error.message}`;
          progress.eprint(`gbp: error: ${msg}`);
          if (debug && o.error.stack) progress.eprint(o.error.stack);
          if (parsed.json) progress.print(JSON.stringify({ image: item.image, model: config.model, error: msg }));
        }
        printed++;
      }
    };
    const settle = (id: number, o: Outcome): void => {
      outcomes[id] = o;
      if (!o.ok) failures++;
      progress.tick(o.ok, items[id]!.image);
      flush();
    };

    // Ctrl-C: remove this run's staging folders (finished outputs stay; nothing is half-written)
    const onSigint = (): void => {
      progress.finish();
      try {
        for (const n of readdirSync(config.out)) if (n.startsWith(`.gbp-${process.pid}-`)) rmSync(join(config.out, n), { recursive: true, force: true });
      } catch {
        // the folder is gone
      }
      eline('gbp: interrupted');
      process.exit(130);
    };
    process.once('SIGINT', onSigint);

    const runnable: number[] = [];
    items.forEach((it, id) => {
      if (it.error) settle(id, { ok: false, error: { kind: 'image', message: it.error } });
      else runnable.push(id);
    });
    verbose(`${items.length} input(s), ${runnable.length} to process, ${jobs} worker(s); model ${config.model}, method ${config.method}, output to ${config.out}`);

    if (runnable.length > 0 && jobs === 1) {
      const { load_model_context } = await import('./model_context.ts');
      const { run_image } = await import('./run_image.ts');
      const ctx = load_model_context(config);
      verbose(`model ${ctx.name} loaded in ${format_ms(ctx.load_ms)} (weights ${ctx.weights})`);
      for (const id of runnable) {
        progress.start(items[id]!.image);
        current = items[id]!.image;
        let outcome: Outcome;
        try {
          outcome = { ok: true, result: await run_image(ctx, items[id]!, config) };
        } catch (e) {
          outcome = { ok: false, error: to_error_info(e, 'image') };
        }
        await new Promise((r) => setImmediate(r)); // let this image's warnings print before its result
        current = null;
        settle(id, outcome);
      }
    } else if (runnable.length > 0) {
      const { run_pool } = await import('./pool.ts');
      await run_pool(config, items, runnable, jobs, {
        ready: (ms, weights) => verbose(`worker ready: model loaded in ${format_ms(ms)} (weights ${weights})`),
        start: (id) => progress.start(items[id]!.image),
        done: (id, result) => settle(id, { ok: true, result }),
        failed: (id, error) => settle(id, { ok: false, error }),
        warning: (line) => progress.eprint(line),
      });
    }
    progress.finish();
    process.removeListener('SIGINT', onSigint);

    const total = performance.now() - t_start;
    if (items.length > 1 || failures > 0) {
      const summary = `${items.length - failures} of ${items.length} image(s) done, ${failures} failed, in ${format_ms(total)}${jobs > 1 ? ` (${jobs} workers)` : ''}`;
      if (failures > 0) eline(`gbp: ${summary}`);
      else if (!parsed.json) io.stdout.write(`${summary}\n`);
    } else if (!parsed.json) {
      io.stdout.write(`total ${format_ms(total)} (including model load)\n`);
    }
    return failures > 0 ? 1 : 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof ModelLoadError) {
      eline(`gbp: error: ${e.message}`);
      const details = (e as { details?: string }).details;
      if (debug) eline(details ?? error_details(e));
      return 2;
    }
    eline(`gbp: error: internal error: ${describe_error(e)}${debug ? '' : ' (run with --debug for details)'}`);
    if (debug) eline(error_details(e));
    return 1;
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  process.exitCode = await main(process.argv.slice(2));
}
