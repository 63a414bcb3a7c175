/** The HTML report is self-contained and escapes what it shows. */
import { describe, expect, it } from 'vitest';

import { escape_html, png_data_uri, render_report } from '../src/report_html.ts';
import { format_result } from '../src/output.ts';
import { rank_predictions } from '../src/run_image.ts';

describe('report_html', () => {
  const png = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]);
  const html = render_report({
    image: 'faces/<script>alert(1)</script>.png',
    model: 'face-expression',
    method: 'guided',
    target: { index: 1, label: 'happy' },
    predictions: [{ index: 1, label: 'happy', prob: 0.9999872 }, { index: 0, label: 'a&b', prob: 1.2e-7 }],
    pictures: [{ caption: 'Input', file: 'x.png', png }, { caption: 'Colored guided backprop', file: 'x_Guided_BP_color.png', png }],
  });

  it('embeds every picture as a data URI and nothing external', () => {
    expect(html.match(/<img src="data:image\/png;base64,iVBORw0KGgo="/g)).toHaveLength(2);
    expect(html).not.toMatch(/(src|href)="(?!data:)/);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('a&amp;b');
  });

  it('marks the explained class and never rounds a probability below 1 to 100%', () => {
    expect(html).toMatch(/<tr class="target"><td>1<\/td><td>happy<\/td><td class="num">99\.999%<\/td>/);
    expect(html).toContain('1.2e-5%');
  });

  it('helpers', () => {
    expect(escape_html(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(png_data_uri(new Uint8Array([1, 2, 3]))).toBe('data:image/png;base64,AQID');
  });
});

describe('predictions and text output', () => {
  it('softmax ranking, ties by index', () => {
    const r = rank_predictions([0, 2, 2, -1], ['a', 'b', 'c', 'd']);
    expect(r.map((p) => p.label)).toEqual(['b', 'c', 'a', 'd']);
    expect(r.reduce((s, p) => s + p.prob, 0)).toBeCloseTo(1, 12);
  });

  it('format_result', () => {
    const text = format_result(
      {
        image: 'a.png', model: 'face-expression', target: { index: 0, label: 'neutral' },
        predictions: [{ index: 1, label: 'happy', prob: 0.7 }, { index: 0, label: 'neutral', prob: 0.3 }],
        outputs: ['results/a_Guided_BP_color.png'], timings_ms: { load: 1.2, preprocess: 2, forward: 30.4, backward: 12_345, write: 5 },
      },
      'guided',
    );
    expect(text).toBe([
      'a.png: happy (70.00%)',
      '  happy       70.00%',
      '  neutral     30.00%  <- explained',
      "  guided backprop for 'neutral' -> 1 files:",
      '    results/a_Guided_BP_color.png',
      '  time: load 1 ms, preprocess 2 ms, forward 30 ms, backward 12.3 s, write 5 ms',
    ].join('\n'));
  });
});
