/** Human-readable output of `gbp` (the `--json` output is the ImageResult itself). */
import type { ImageResult, Timings } from './run_image.ts';

/** A probability as a percentage for people: 2 decimals, more only to keep it below 100%, exponent under 0.01%. */
export function pct(p: number): string {
  const v = p * 100;
  if (v > 0 && v < 0.01) return `${v.toExponential(1)}%`;
  // never round a probability below 1 up to "100.00%"
  let d = 2;
  while (v < 100 && d < 6 && Number(v.toFixed(d)) >= 100) d++;
  return `${v.toFixed(d)}%`;
}

export function format_ms(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

export function format_timings(t: Timings): string {
  return `load ${format_ms(t.load)}, preprocess ${format_ms(t.preprocess)}, forward ${format_ms(t.forward)}, backward ${format_ms(t.backward)}, write ${format_ms(t.write)}`;
}

/** The text block printed for one successful image. */
export function format_result(r: ImageResult, method: 'guided' | 'vanilla'): string {
  const top = r.predictions[0]!;
  const w = Math.max(...r.predictions.map((p) => p.label.length));
  const lines = [`${r.image}: ${top.label} (${pct(top.prob)})`];
  for (const p of r.predictions) {
    const mark = p.index === r.target.index ? '  <- explained' : '';
    lines.push(`  ${p.label.padEnd(w)}  ${pct(p.prob).padStart(9)}${mark}`);
  }
  if (!r.predictions.some((p) => p.index === r.target.index)) {
    lines.push(`  explained: ${r.target.label} (class ${r.target.index})`);
  }
  lines.push(`  ${method === 'guided' ? 'guided' : 'vanilla'} backprop for '${r.target.label}' -> ${r.outputs.length} files:`);
  for (const o of r.outputs) lines.push(`    ${o}`);
  lines.push(`  time: ${format_timings(r.timings_ms)}`);
  return lines.join('\n');
}
