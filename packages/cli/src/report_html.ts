/**
 * `<stem>_report.html`: one self-contained page (no external files, no scripts)
 * with the network input and the saliency maps side by side, as base64 data
 * URIs, and the predictions table.
 */
import { pct } from './output.ts';

export interface ReportPicture {
  caption: string;
  /** File name the map was written to (shown under it). */
  file: string | null;
  /** PNG bytes. */
  png: Uint8Array;
}

export interface ReportPrediction {
  index: number;
  label: string;
  prob: number;
}

export interface ReportData {
  /** Input path as given. */
  image: string;
  model: string;
  method: 'guided' | 'vanilla';
  target: { index: number; label: string };
  predictions: ReportPrediction[];
  /** First picture is the input as the network saw it, then the maps. */
  pictures: ReportPicture[];
  /** Free-form notes shown under the title (e.g. input size). */
  notes?: string[];
}

/** Escapes text for HTML element content and attribute values. */
export function escape_html(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** `data:image/png;base64,...` */
export function png_data_uri(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64')}`;
}

/** Renders the report page. */
export function render_report(d: ReportData): string {
  const method = d.method === 'guided' ? 'Guided backpropagation' : 'Vanilla backpropagation';
  const title = `${method} — ${d.image}`;
  const figures = d.pictures
    .map(
      (p) => `    <figure>
      <img src="${png_data_uri(p.png)}" alt="${escape_html(p.caption)}">
      <figcaption>${escape_html(p.caption)}${p.file ? `<br><code>${escape_html(p.file)}</code>` : ''}</figcaption>
    </figure>`,
    )
    .join('\n');
  const rows = d.predictions
    .map((p) => {
      const cls = p.index === d.target.index ? ' class="target"' : '';
      const w = Math.max(0, Math.min(100, p.prob * 100));
      return `      <tr${cls}><td>${p.index}</td><td>${escape_html(p.label)}</td><td class="num">${pct(p.prob)}</td><td class="bar"><span style="width:${w.toFixed(1)}%"></span></td></tr>`;
    })
    .join('\n');
  const notes = (d.notes ?? []).map((n) => `  <p class="note">${escape_html(n)}</p>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escape_html(title)}</title>
<style>
  body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em; color: #222; }
  h1 { font-size: 1.3em; }
  .note { color: #555; margin: 0.2em 0; }
  .maps { display: flex; flex-wrap: wrap; gap: 1em; margin: 1.5em 0; }
  figure { margin: 0; text-align: center; }
  figure img { width: 224px; height: 224px; object-fit: contain; image-rendering: pixelated; border: 1px solid #ccc; background: #000; }
  figcaption { font-size: 0.85em; margin-top: 0.3em; max-width: 224px; overflow-wrap: anywhere; }
  table { border-collapse: collapse; }
  th, td { padding: 0.25em 0.8em; border-bottom: 1px solid #eee; text-align: left; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  td.bar { width: 200px; }
  td.bar span { display: block; height: 0.8em; background: #4a7bd0; }
  tr.target { font-weight: bold; }
</style>
</head>
<body>
  <h1>${escape_html(method)}: <code>${escape_html(d.image)}</code></h1>
  <p class="note">Model: <code>${escape_html(d.model)}</code>. Explained class: <b>${escape_html(d.target.label)}</b> (index ${d.target.index}).</p>
${notes}
  <div class="maps">
${figures}
  </div>
  <h2>Predictions</h2>
  <table>
    <thead><tr><th>#</th><th>label</th><th>probability</th><th></th></tr></thead>
    <tbody>
${rows}
    </tbody>
  </table>
</body>
</html>
`;
}
