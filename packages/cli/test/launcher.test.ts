/**
 * `pnpm gbp`'s launcher (bin/gbp.mjs): it runs the CLI from an esbuild bundle that it rebuilds when a
 * source changes, and falls back to tsx. Spawned as a user runs it; the maps must be the same either way.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const launcher = join(root, 'packages/cli/bin/gbp.mjs');
const bundle = join(root, 'packages/cli/dist/gbp.mjs');
const example = join(root, 'examples/AF01HAHR.png');

function gbp(out: string, env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [launcher, example, '--out', out, '--npy'], { cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bin/gbp.mjs', () => {
  it('runs from the bundle, rebuilds it only when a source changed, and falls back to tsx with the same result', () => {
    const first = mkdtempSync(join(tmpdir(), 'gbp-launch-'));
    const r1 = gbp(first);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.stdout).toMatch(/AF01HAHR\.png: happy \(99\.99\d*%\)/);
    const built = statSync(bundle).mtimeMs;

    // unchanged sources: the bundle is reused
    const again = mkdtempSync(join(tmpdir(), 'gbp-launch-'));
    expect(gbp(again).code).toBe(0);
    expect(statSync(bundle).mtimeMs).toBe(built);

    // a source file is touched (content unchanged): the bundle is rebuilt before running
    const src = join(root, 'packages/cli/src/output.ts');
    const later = new Date(Date.now() + 2000);
    utimesSync(src, later, later);
    const rebuilt = mkdtempSync(join(tmpdir(), 'gbp-launch-'));
    expect(gbp(rebuilt).code).toBe(0);
    expect(statSync(bundle).mtimeMs).toBeGreaterThan(built);

    // tsx instead of the bundle (GRADLENS_NO_BUNDLE=1): identical gradient file
    const viaTsx = mkdtempSync(join(tmpdir(), 'gbp-launch-'));
    expect(gbp(viaTsx, { GRADLENS_NO_BUNDLE: '1' }).code).toBe(0);
    const npy = (dir: string): Buffer => readFileSync(join(dir, 'AF01HAHR_Guided_BP.npy'));
    expect(npy(viaTsx).equals(npy(first))).toBe(true);
    expect(npy(rebuilt).equals(npy(first))).toBe(true);
  }, 240_000);
});
