/**
 * End to end: the `gbp` command as a user runs it (spawned processes), on the example face.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { read_image } from '@gradlens/viz';

import { parse_npy } from '../src/npy.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const example = join(root, 'examples/AF01HAHR.png');
const MAIN = join(root, 'packages/cli/src/main.ts');
const SUFFIXES = ['_Guided_BP_color.png', '_Guided_BP_gray.png', '_pos_sal.png', '_neg_sal.png', '_report.html'];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node --import tsx packages/cli/src/main.ts ...args` (what `pnpm gbp` runs). */
function gbp(args: string[], opts: { pnpm?: boolean } = {}): Run {
  const r = opts.pnpm
    ? spawnSync('pnpm', ['--silent', 'gbp', ...args], { cwd: root, encoding: 'utf8', timeout: 240_000 })
    : spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: root, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = (p: string): string => mkdtempSync(join(tmpdir(), `gbp-${p}-`));

function pngSize(path: string): [number, number] {
  const b = readFileSync(path);
  expect([...b.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  const im = read_image(path); // full decode: CRCs, zlib stream
  expect([b.readUInt32BE(16), b.readUInt32BE(20)]).toEqual([im.width, im.height]);
  return [im.width, im.height];
}

/** The errors a user sees are single `gbp: error:` lines, never a stack trace. */
function expectCleanErrors(stderr: string): void {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('gbp: ') && !/Warning/.test(l) && !l.startsWith('(Use `node'));
  expect(lines).toEqual([]);
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe('gbp usage errors (exit 2, one line)', () => {
  it('--help', () => {
    const r = gbp(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: pnpm gbp <image\.\.\.\|folder> \[options\]/);
  });

  it.each([
    [[], /^gbp: error: no input images \(try --help\)\n$/],
    [['x.png', '--model', 'inception'], /^gbp: error: --model must be one of .*; got 'inception'\n$/],
    [['x.png', '--model', 'resnet50'], /^gbp: error: --model resnet50 needs --weights FILE\.safetensors .*random weights\n$/],
    [['x.png', '--frobnicate'], /^gbp: error: Unknown option '--frobnicate'.*\n$/],
    [['x.png', '--jobs', '0'], /^gbp: error: --jobs expects a positive integer, got '0'\n$/],
    [['x.png', '--device', 'cuda'], /^gbp: error: --device must be one of cpu, gpujs-webasm, gpujs-webgpu, auto; got 'cuda'\n$/],
    [[example, '--target', 'joyful'], /^gbp: error: --target 'joyful': unknown label; known labels: neutral, happy, sad, angry, fearful, disgusted, surprised\n$/],
    [[example, '--target', '7'], /^gbp: error: --target 7: class index out of range \(the model has 7 classes, 0\.\.6\)\n$/],
  ])('%j', (args, re) => {
    const r = gbp(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(re);
    expect(r.stdout).toBe('');
  });

  it('weights that do not fit the architecture', () => {
    const dir = tmp('weights');
    // a valid safetensors file holding one unrelated tensor
    const header = JSON.stringify({ 'foo.weight': { dtype: 'F32', shape: [2], data_offsets: [0, 8] } });
    const hb = Buffer.from(header.padEnd(Math.ceil(header.length / 8) * 8, ' '));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(hb.length));
    const w = join(dir, 'bogus.safetensors');
    writeFileSync(w, Buffer.concat([len, hb, Buffer.alloc(8)]));
    const r = gbp([example, '--model', 'resnet18', '--weights', w, '--out', join(dir, 'out')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^gbp: error: --weights .*bogus\.safetensors do not fit resnet18 with 1000 classes: missing key\(s\) 'conv1\.weight', 'bn1\.weight', 'bn1\.bias', \.\.\. \(\d+ in all\); unexpected key\(s\) 'foo\.weight'\n$/);
    const r2 = gbp([example, '--model', 'resnet18', '--weights', join(dir, 'missing.safetensors')]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/^gbp: error: --weights: .*missing\.safetensors: no such file or directory\n$/);
    const junk = join(dir, 'junk.safetensors');
    writeFileSync(junk, 'not a safetensors file at all');
    const r3 = gbp([example, '--model', 'vgg16', '--weights', junk]); // fails before building vgg16
    expect(r3.code).toBe(2);
    expect(r3.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r3.stderr).toMatch(/^gbp: error: --weights .*junk\.safetensors: /);
    const r4 = gbp([example, '--model', 'alexnet', '--weights', junk, '--debug']);
    expect(r4.code).toBe(2);
    expect(r4.stderr).toMatch(/^\s+at /m); // --debug adds the stack
  }, 120_000);
});

describe('gbp on the example face', () => {
  it('pnpm gbp examples/AF01HAHR.png --json --npy: happy, four maps, report, .npy', () => {
    const out = tmp('one');
    const r = gbp(['examples/AF01HAHR.png', '--json', '--npy', '--out', out], { pnpm: true });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const j = JSON.parse(lines[0]!);
    expect(Object.keys(j)).toEqual(['image', 'model', 'target', 'predictions', 'outputs', 'timings_ms']);
    expect(j.image).toBe('examples/AF01HAHR.png');
    expect(j.model).toBe('face-expression');
    expect(j.target).toEqual({ index: 1, label: 'happy' });
    expect(j.predictions).toHaveLength(7);
    expect(j.predictions[0]).toMatchObject({ index: 1, label: 'happy' });
    expect(j.predictions[0].prob).toBeGreaterThan(0.999);
    expect(j.predictions.reduce((s: number, p: { prob: number }) => s + p.prob, 0)).toBeCloseTo(1, 6);
    expect(Object.keys(j.timings_ms)).toEqual(['load', 'preprocess', 'forward', 'backward', 'write']);
    for (const v of Object.values(j.timings_ms)) expect(v).toBeGreaterThanOrEqual(0);
    const expected = [...SUFFIXES.slice(0, 4), '_Guided_BP.npy', '_report.html'].map((s) => join(out, `AF01HAHR${s}`));
    expect(j.outputs).toEqual(expected);
    for (const p of expected) expect(existsSync(p)).toBe(true);
    for (const p of expected.slice(0, 4)) expect(pngSize(p)).toEqual([112, 112]);
    expect(read_image(expected[0]!).mode).toBe('RGB');
    const npy = parse_npy(new Uint8Array(readFileSync(expected[4]!)));
    expect(npy.shape).toEqual([3, 112, 112]);
    expect(npy.data.some((v) => v !== 0)).toBe(true);
    expect(npy.data.every(Number.isFinite)).toBe(true);
    const html = readFileSync(expected[5]!, 'utf8');
    expect(html.match(/src="data:image\/png;base64,/g)).toHaveLength(5);
    expect(html).not.toMatch(/src="(?!data:)/); // self-contained
    expect(html).toContain('happy');
    expect(readdirSync(out).filter((n) => n.startsWith('.'))).toEqual([]); // no staging leftovers
  }, 240_000);

  it('text output, vanilla method, an explicit --target, --device cpu --verbose', () => {
    const out = tmp('vanilla');
    const r = gbp([example, '--method', 'vanilla', '--target', 'surprised', '--out', out, '--device', 'cpu', '--verbose']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^gbp: backend cpu \(default\); adapter none$/m);
    expect(r.stdout).toMatch(/AF01HAHR\.png: happy \(99\.99\d*%\)/);
    expect(r.stdout).toMatch(/surprised .*<- explained/);
    expect(r.stdout).toContain(join(out, 'AF01HAHR_Vanilla_BP_color.png'));
    expect(r.stdout).toMatch(/time: load \d+ ms, preprocess \d+ ms, forward \d+ ms, backward \d+ ms, write \d+ ms/);
    expect(readdirSync(out).sort()).toEqual(['AF01HAHR_Vanilla_BP_color.png', 'AF01HAHR_Vanilla_BP_gray.png', 'AF01HAHR_report.html']);
    expect(pngSize(join(out, 'AF01HAHR_Vanilla_BP_gray.png'))).toEqual([112, 112]);
  }, 240_000);
});

// The WebGPU device path on SwiftShader (slow: every kernel compiles in software). Skipped, visibly,
// only when the Vulkan ICD is missing; CI sets GRADLENS_REQUIRE_WEBGPU=1 so it cannot skip there.
const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const noIcd = existsSync(ICD) ? null : `SwiftShader Vulkan ICD not found (${ICD})`;
if (noIcd !== null && process.env['GRADLENS_REQUIRE_WEBGPU'] === '1') throw new Error(`GRADLENS_REQUIRE_WEBGPU=1 but ${noIcd}`);
describe.skipIf(noIcd !== null)(noIcd === null ? '--device gpujs-webgpu (SwiftShader)' : `--device gpujs-webgpu — SKIPPED: ${noIcd}`, () => {
  it('runs the whole pass on the device and writes the same maps and gradient as the cpu', () => {
    const dev = tmp('webgpu');
    const cpu = tmp('webgpu-ref');
    const env = { ...process.env, VK_ICD_FILENAMES: ICD };
    const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, example, '--out', dev, '--npy', '--device', 'gpujs-webgpu', '--verbose'], { cwd: root, encoding: 'utf8', timeout: 240_000, env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^gbp: backend gpujs-webgpu \(--device gpujs-webgpu\); adapter gpu\.js webgpu on .*swiftshader.*\(software\)$/m);
    expect(r.stdout).toMatch(/AF01HAHR\.png: happy \(99\.99\d*%\)/);
    expect(gbp([example, '--out', cpu, '--npy']).code).toBe(0);
    const g = parse_npy(readFileSync(join(dev, 'AF01HAHR_Guided_BP.npy')));
    const ref = parse_npy(readFileSync(join(cpu, 'AF01HAHR_Guided_BP.npy')));
    expect(g.shape).toEqual(ref.shape);
    let d = 0, m = 0;
    ref.data.forEach((v, i) => {
      d = Math.max(d, Math.abs(v - g.data[i]!));
      m = Math.max(m, Math.abs(v));
    });
    expect(d / m).toBeLessThanOrEqual(1e-4);
    for (const s of SUFFIXES.slice(0, 4)) {
      const [a, b] = [read_image(join(dev, `AF01HAHR${s}`)), read_image(join(cpu, `AF01HAHR${s}`))];
      let worst = 0;
      a.data.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b.data.data[i]!))));
      expect(worst, s).toBeLessThanOrEqual(1);
    }
  }, 240_000);
});

describe('several images', () => {
  it('a folder with a broken image among good ones: others written, exit 1, one error line', () => {
    const dir = tmp('folder');
    const inp = join(dir, 'in');
    mkdirSync(inp);
    copyFileSync(example, join(inp, 'a_face.png'));
    copyFileSync(example, join(inp, 'c_face.png'));
    writeFileSync(join(inp, 'b_broken.png'), Buffer.concat([readFileSync(example).subarray(0, 300)])); // truncated PNG
    writeFileSync(join(inp, 'notes.txt'), 'not an image');
    const out = join(dir, 'out');
    const r = gbp([inp, '--out', out, '--jobs', '2', '--json']);
    expect(r.code).toBe(1);
    const objs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(objs.map((o) => o.image)).toEqual(['a_face.png', 'b_broken.png', 'c_face.png'].map((n) => join(inp, n)));
    expect(objs[0].target.label).toBe('happy');
    expect(objs[2].target.label).toBe('happy');
    expect(objs[1].error).toMatch(/b_broken\.png/);
    expect(r.stderr).toMatch(/^gbp: error: .*b_broken\.png.*$/m);
    expect(r.stderr).toMatch(/^gbp: 2 of 3 image\(s\) done, 1 failed/m);
    expectCleanErrors(r.stderr);
    const written = readdirSync(out).sort();
    expect(written).toEqual([...SUFFIXES.map((s) => `a_face${s}`), ...SUFFIXES.map((s) => `c_face${s}`)].sort());
  }, 240_000);

  it('explicit files with a missing path: reported, the rest processed, exit 1', () => {
    const dir = tmp('files');
    const out = join(dir, 'out');
    const missing = join(dir, 'nope.png');
    const r = gbp([missing, example, '--out', out, '--jobs', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`gbp: error: ${missing}: no such file or directory`);
    expectCleanErrors(r.stderr);
    expect(r.stdout).toMatch(/AF01HAHR\.png: happy/);
    expect(readdirSync(out).sort()).toEqual(SUFFIXES.map((s) => `AF01HAHR${s}`).sort());
  }, 240_000);
});

describe('torchvision architectures with --weights', () => {
  it.each(['resnet18', 'alexnet'] as const)('%s: state dict from safetensors, --labels, --target LABEL, 224×224 maps', async (arch) => {
    const nn = await import('../src/nn_api.ts');
    const dir = tmp(arch);
    const w = join(dir, `${arch}.safetensors`);
    const model = (nn.models[arch] as unknown as (o: { num_classes: number }) => { state_dict(): Parameters<typeof nn.save_safetensors>[0] })({ num_classes: 3 });
    nn.save_safetensors(model.state_dict(), w);
    writeFileSync(join(dir, 'labels.txt'), 'cat\ndog\nbird\n');
    const out = join(dir, 'out');
    const r = gbp([example, '--model', arch, '--weights', w, '--labels', join(dir, 'labels.txt'), '--target', 'dog', '--json', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.model).toBe(arch);
    expect(j.target).toEqual({ index: 1, label: 'dog' });
    expect(j.predictions.map((p: { label: string }) => p.label).sort()).toEqual(['bird', 'cat', 'dog']);
    for (const s of SUFFIXES.slice(0, 4)) expect(pngSize(join(out, `AF01HAHR${s}`))).toEqual([224, 224]);
    // --num-classes that does not match the file: one line, exit 2
    const r2 = gbp([example, '--model', arch, '--weights', w, '--num-classes', '5', '--out', out]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(new RegExp(`^gbp: error: --weights .* do not fit ${arch} with 5 classes: size mismatch for (fc|classifier\\.6)\\.weight: \\[3, \\d+\\] in the file, \\[5, \\d+\\] in the model.*\\n$`));
  }, 240_000);
});
