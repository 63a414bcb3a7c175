/** Option parsing and the file-based checks done before any model is loaded. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { HELP_TEXT, parse_args, resolve_jobs, UsageError } from '../src/args.ts';
import type { CliOptions } from '../src/args.ts';
import { check_stems, expand_inputs, prepare_out_dir, read_labels, resolve_target } from '../src/inputs.ts';
import { format_bar, Progress } from '../src/progress.ts';

const ok = (argv: string[]): CliOptions => {
  const r = parse_args(argv);
  if (r.help) throw new Error('unexpected help');
  return r;
};
const usage = (argv: string[], re: RegExp): void => {
  expect(() => parse_args(argv)).toThrow(UsageError);
  expect(() => parse_args(argv)).toThrow(re);
};

describe('parse_args', () => {
  it('defaults', () => {
    expect(ok(['a.png'])).toEqual({
      help: false, inputs: ['a.png'], model: 'face-expression', weights: null, num_classes: null, labels_file: null,
      target: null, out: 'results', method: 'guided', device: 'cpu', npy: false, json: false, verbose: false, debug: false, jobs: null,
    });
  });

  it('all options, long and short', () => {
    const o = ok(['x.jpg', 'dir', '-m', 'resnet50', '-w', 'r.safetensors', '-n', '7', '-l', 'labels.txt', '-t', 'happy',
      '-o', 'out', '--method', 'vanilla', '--npy', '--json', '-v', '--debug', '-j', '3']);
    expect(o).toMatchObject({ inputs: ['x.jpg', 'dir'], model: 'resnet50', weights: 'r.safetensors', num_classes: 7, labels_file: 'labels.txt',
      target: 'happy', out: 'out', method: 'vanilla', npy: true, json: true, verbose: true, debug: true, jobs: 3 });
    expect(ok(['a.png', '--target=-1']).target).toBe('-1');
    expect(ok(['a.png', '--model=vgg16', '--weights=v.safetensors']).model).toBe('vgg16');
  });

  it('--device', () => {
    expect(ok(['a.png', '--device', 'gpujs-webasm']).device).toBe('gpujs-webasm');
    expect(ok(['a.png', '--device=auto']).device).toBe('auto');
    expect(ok(['a.png', '--device', 'cpu']).device).toBe('cpu');
    usage(['a.png', '--device', 'cuda'], /^--device must be one of cpu, gpujs-webasm, gpujs-webgpu, auto; got 'cuda'$/);
    usage(['a.png', '--device'], /--device/);
    expect(HELP_TEXT).toMatch(/--device D +where the model runs/);
  });

  it('--help wins over everything else', () => {
    expect(parse_args(['--help'])).toEqual({ help: true });
    expect(parse_args(['-h', '--model', 'nope'])).toEqual({ help: true });
    expect(HELP_TEXT).toMatch(/Usage: pnpm gbp <image\.\.\.\|folder> \[options\]/);
    for (const o of ['--model', '--weights', '--num-classes', '--labels', '--target', '--out', '--method', '--npy', '--json', '--jobs', '--verbose', '--debug', '--help']) {
      expect(HELP_TEXT).toContain(o);
    }
  });

  it('usage errors', () => {
    usage([], /no input images/);
    usage(['a.png', '--model', 'inception'], /--model must be one of face-expression, alexnet, vgg16, resnet18, resnet50; got 'inception'/);
    usage(['a.png', '--model', 'resnet50'], /--model resnet50 needs --weights FILE\.safetensors.*never runs an architecture with random weights/);
    usage(['a.png', '--method', 'gradcam'], /--method must be one of guided, vanilla/);
    usage(['a.png', '--jobs', '0'], /--jobs expects a positive integer, got '0'/);
    usage(['a.png', '--jobs', 'many'], /--jobs expects a positive integer/);
    usage(['a.png', '--num-classes', '7.5', '--model', 'alexnet', '--weights', 'w'], /--num-classes expects a positive integer/);
    usage(['a.png', '--num-classes', '10'], /does not fit --model face-expression, which has 7 classes/);
    usage(['a.png', '--bogus'], /Unknown option '--bogus'/);
    usage(['a.png', '--target'], /argument missing/);
    usage(['a.png', '--target', '-1'], /ambiguous/);
    usage(['a.png', '--json=yes'], /does not take an argument/);
    usage(['a.png', '--out', ''], /--out is empty/);
    // one line each
    for (const argv of [['a.png', '--target', '-1'], ['a.png', '--frob']]) {
      try {
        parse_args(argv);
      } catch (e) {
        expect((e as Error).message).not.toContain('\n');
      }
    }
  });

  it('jobs: never more workers than images', () => {
    expect(resolve_jobs(8, 3)).toBe(3);
    expect(resolve_jobs(2, 10)).toBe(2);
    expect(resolve_jobs(null, 1)).toBe(1);
    expect(resolve_jobs(4, 0)).toBe(1);
  });
});

describe('labels and target', () => {
  const labels = ['neutral', 'happy', 'sad', 'Angry'];

  it('resolves indices and labels', () => {
    expect(resolve_target(null, labels)).toBeNull();
    expect(resolve_target('1', labels)).toBe(1);
    expect(resolve_target('happy', labels)).toBe(1);
    expect(resolve_target('HAPPY', labels)).toBe(1);
    expect(resolve_target('angry', labels)).toBe(3);
  });

  it('unknown label and out-of-range index are usage errors', () => {
    expect(() => resolve_target('joyful', labels)).toThrow(/--target 'joyful': unknown label; known labels: neutral, happy, sad, Angry/);
    expect(() => resolve_target('4', labels)).toThrow(/--target 4: class index out of range \(the model has 4 classes, 0\.\.3\)/);
    expect(() => resolve_target('-1', labels)).toThrow(/out of range/);
    expect(() => resolve_target('x', ['a', 'A', 'X', 'x'.toUpperCase()])).toThrow(UsageError);
  });

  it('reads a labels file (CRLF, BOM, trailing blank lines)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbp-labels-'));
    const f = join(dir, 'l.txt');
    writeFileSync(f, '\uFEFFcat\r\ndog\r\n\r\n');
    expect(read_labels(f)).toEqual(['cat', 'dog']);
    writeFileSync(f, 'cat\n\ndog\n');
    expect(() => read_labels(f)).toThrow(/line 2 is empty/);
    writeFileSync(f, '\n\n');
    expect(() => read_labels(f)).toThrow(/has no labels/);
    expect(() => read_labels(join(dir, 'missing.txt'))).toThrow(/--labels: .*missing\.txt: no such file or directory/);
    expect(() => read_labels(dir)).toThrow(/is a directory/);
  });
});

describe('inputs', () => {
  it('expands folders (sorted, images only, not recursive) and marks bad paths', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbp-in-'));
    for (const n of ['b.png', 'a.JPG', 'c.jpeg', 'notes.txt', '.hidden.png']) writeFileSync(join(dir, n), 'x');
    mkdirSync(join(dir, 'sub.png'));
    mkdirSync(join(dir, 'empty'));
    const items = expand_inputs([dir, join(dir, 'nope.png'), join(dir, 'empty'), join(dir, 'notes.txt')]);
    expect(items.map((i) => [i.image.slice(dir.length + 1), i.stem, i.error ? 'E' : ''])).toEqual([
      ['a.JPG', 'a', ''],
      ['b.png', 'b', ''],
      ['c.jpeg', 'c', ''],
      ['nope.png', 'nope', 'E'],
      ['empty', 'empty', 'E'],
      ['notes.txt', 'notes', ''], // named explicitly: tried (and fails to decode later)
    ]);
    expect(items[3]!.error).toMatch(/nope\.png: no such file or directory/);
    expect(items[4]!.error).toMatch(/folder has no \.png\/\.jpg\/\.jpeg images/);
  });

  it('refuses two inputs whose outputs would collide', () => {
    expect(() => check_stems([{ image: 'a/x.png', stem: 'x' }, { image: 'b/x.jpg', stem: 'x' }])).toThrow(/same name 'x'/);
    expect(() => check_stems([{ image: 'a/x.png', stem: 'x' }, { image: 'a/./x.png', stem: 'x' }])).not.toThrow();
  });

  it('output folder: created, or a clear usage error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbp-out-'));
    prepare_out_dir(join(dir, 'a', 'b'));
    writeFileSync(join(dir, 'file'), 'x');
    expect(() => prepare_out_dir(join(dir, 'file'))).toThrow(/--out .*file: cannot create the output folder \(exists and is not a folder\)/);
  });
});

describe('progress bar', () => {
  it('formats to the terminal width', () => {
    const s = format_bar(3, 8, 1, 'photos/very/long/path/to/image_0001.png', 60);
    expect(s.length).toBeLessThanOrEqual(60);
    expect(s).toMatch(/^\[#+\.+\] 3\/8  1 failed  …/);
    expect(format_bar(8, 8, 0, '', 80)).toMatch(/^\[#+\] 8\/8$/);
  });

  it('draws only on a TTY and clears itself around printed lines', () => {
    const err: string[] = [];
    const out: string[] = [];
    const mk = (buf: string[], tty: boolean) => ({ isTTY: tty, columns: 80, write: (s: string) => (buf.push(s), true) });
    const p = new Progress(3, mk(err, true), mk(out, true));
    p.start('a.png');
    p.print('result a');
    p.tick(true);
    p.finish();
    expect(out).toEqual(['result a\n']);
    expect(err.join('')).toContain('0/3');
    expect(err.join('')).toContain('1/3');
    expect(err[err.length - 1]).toBe('\r\x1b[2K');
    const err2: string[] = [];
    const q = new Progress(3, mk(err2, false), mk([], false));
    q.start('a');
    q.tick(true);
    q.finish();
    expect(err2).toEqual([]);
  });
});
