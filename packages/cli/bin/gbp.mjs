#!/usr/bin/env node
// `pnpm gbp`: runs packages/cli/src/main.ts from a bundle that esbuild rebuilds whenever a source
// file it was made from changes. Loading ~150 TypeScript modules through tsx's loader costs about
// 0.5 s of a ~2 s one-image run; the bundle loads in a fraction of that. Every module keeps its own
// `import.meta.url` (rewritten at build time), so paths it resolves from its own location (gpu.js,
// the face-api weights, the worker entry) are those of the sources. Anything going wrong with the
// bundle falls back to tsx, so the command never depends on it.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cli = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(cli, 'src/main.ts');
const out = join(cli, 'dist/gbp.mjs');
const manifest = join(cli, 'dist/gbp.inputs.json');

/** The inputs the bundle was built from, with their mtimes and sizes, or null when stale or missing. */
function fresh() {
  try {
    const inputs = JSON.parse(readFileSync(manifest, 'utf8'));
    statSync(out);
    for (const [file, stamp] of Object.entries(inputs)) {
      const s = statSync(file);
      if (`${s.mtimeMs}:${s.size}` !== stamp) return false;
    }
    return true;
  } catch {
    return false;
  }
}

async function build() {
  const esbuild = await import('esbuild');
  // each module's own URL, as a literal, so the bundle resolves paths exactly as the sources do
  const ownUrl = {
    name: 'own-import-meta-url',
    setup(b) {
      b.onLoad({ filter: /\.(ts|mjs|js)$/ }, (args) => {
        if (args.path.includes('/node_modules/')) return undefined;
        const text = readFileSync(args.path, 'utf8').replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href));
        return { contents: text, loader: args.path.endsWith('.ts') ? 'ts' : 'js' };
      });
    },
  };
  const r = await esbuild.build({
    entryPoints: [entry], absWorkingDir: cli, bundle: true, platform: 'node', format: 'esm', target: 'node20',
    external: ['gpu.js', 'webgpu', 'tsx', 'tsx/*', 'esbuild'], plugins: [ownUrl], metafile: true, write: false, logLevel: 'silent',
    // CommonJS dependencies (ndarray, pngjs, ...) call require: give the bundle one
    banner: { js: "import { createRequire as __gradlensRequire } from 'node:module'; const require = __gradlensRequire(import.meta.url);" },
  });
  const inputs = {};
  for (const rel of Object.keys(r.metafile.inputs)) {
    const file = resolve(cli, rel);
    const s = statSync(file);
    inputs[file] = `${s.mtimeMs}:${s.size}`;
  }
  mkdirSync(dirname(out), { recursive: true });
  // written under temporary names and renamed: a concurrent run sees the old bundle or the new one
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, r.outputFiles[0].contents);
  renameSync(tmp, out);
  writeFileSync(`${manifest}.${process.pid}.tmp`, JSON.stringify(inputs));
  renameSync(`${manifest}.${process.pid}.tmp`, manifest);
}

async function load() {
  if (process.env.GRADLENS_NO_BUNDLE !== '1') {
    try {
      if (!fresh()) await build();
      return await import(pathToFileURL(out).href);
    } catch (e) {
      if (process.env.GRADLENS_DEBUG_BUNDLE === '1') console.error('gbp: bundle unavailable, using tsx:', e);
    }
  }
  const { register } = await import('tsx/esm/api');
  register();
  return import(pathToFileURL(entry).href);
}

const { main } = await load();
process.exitCode = await main(process.argv.slice(2));
