// Node module-resolution hooks used by face_expression_reference.ts (registered with
// node:module's register()). face-api's "esm-nobundle" build imports
//   @tensorflow/tfjs/dist/index.js, @tensorflow/tfjs-backend-webgl/dist/index.js,
//   @tensorflow/tfjs-backend-wasm/dist/index.js
// from its own location, where pnpm installed none of them. We redirect the first to
// packages/nn's @tensorflow/tfjs (pure JS, cpu backend) and replace the two GPU/WASM
// backends with empty modules (they are not used: the script runs on the cpu backend).
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const requireFromNn = createRequire(new URL('../package.json', import.meta.url));
const EMPTY = 'data:text/javascript,export{}';

export async function resolve(specifier, context, nextResolve) {
  if (specifier === '@tensorflow/tfjs/dist/index.js' || specifier === '@tensorflow/tfjs') {
    return { url: pathToFileURL(requireFromNn.resolve('@tensorflow/tfjs')).href, shortCircuit: true, format: 'commonjs' };
  }
  if (specifier.startsWith('@tensorflow/tfjs-backend-webgl') || specifier.startsWith('@tensorflow/tfjs-backend-wasm')) {
    return { url: EMPTY, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
