/**
 * Reader for TensorFlow.js weight manifests (plain float32 and quantized
 * uint8/uint16/float16), with helpers converting tfjs layouts to PyTorch's.
 *
 * Node: `load_tfjs_weights(manifestPath)` reads the manifest and its shard files
 * (paths resolved relative to the manifest's folder).
 * Browsers: import `decode_tfjs_weights` from `./tfjs_weights_core.ts` (no Node
 * imports) and pass the manifest JSON and the shard ArrayBuffers.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import {
  decode_tfjs_group,
  parse_tfjs_manifest_text,
  TfjsWeightsError,
} from './tfjs_weights_core.ts';
import type { TfjsWeightMap } from './tfjs_weights_core.ts';

export {
  decode_tfjs_weight,
  decode_tfjs_weights,
  float16_to_float32,
  parse_tfjs_manifest,
  parse_tfjs_manifest_text,
  permute_weight,
  shape_size,
  tf_same_padding,
  tfjs_conv_to_torch,
  tfjs_dense_to_torch,
  tfjs_depthwise_to_torch,
  tfjs_weight_byte_length,
  TfjsWeightsError,
} from './tfjs_weights_core.ts';
export type {
  ShardBytes,
  ShardSource,
  TfjsManifestGroup,
  TfjsQuantization,
  TfjsQuantizationDtype,
  TfjsWeight,
  TfjsWeightDtype,
  TfjsWeightMap,
  TfjsWeightSpec,
  TfjsWeightsManifest,
} from './tfjs_weights_core.ts';

/**
 * Load a tfjs weights manifest (`*-weights_manifest.json`, or a `model.json`
 * with `weightsManifest`) and all its shards from disk. Returns every weight as
 * float32 in the manifest's (tfjs) layout, keyed by name, in manifest order.
 * Throws TfjsWeightsError naming the file on: unreadable/malformed manifest,
 * missing shard, byte-count mismatch, unknown dtype or quantization.
 */
export function load_tfjs_weights(manifestPath: string): TfjsWeightMap {
  const absManifest = resolve(manifestPath);
  let text: string;
  try {
    text = readFileSync(absManifest, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TfjsWeightsError(absManifest, code === 'ENOENT' ? 'manifest file not found' : `cannot read manifest: ${(e as Error).message}`);
  }
  const manifest = parse_tfjs_manifest_text(text, absManifest);
  const dir = dirname(absManifest);
  const out: TfjsWeightMap = new Map();
  manifest.forEach((group, gi) => {
    const parts = group.paths.map((p) => {
      const shardPath = resolve(dir, p);
      try {
        if (!statSync(shardPath).isFile()) throw new Error('not a regular file');
        return new Uint8Array(readFileSync(shardPath));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new TfjsWeightsError(
          absManifest,
          code === 'ENOENT'
            ? `missing shard file ${shardPath} (path '${p}' of group ${gi})`
            : `cannot read shard file ${shardPath} (group ${gi}): ${(e as Error).message}`,
        );
      }
    });
    decode_tfjs_group(group, gi, parts, absManifest, out);
  });
  return out;
}
