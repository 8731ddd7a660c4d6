import { esc, formatCount } from './format';
import type { MinuteCounts } from './throughput';

/**
 * A small bar chart as inline SVG (no script, nothing loaded): per minute, a
 * pale bar for events received and a dark bar for events sent to Odoo. Each
 * bar carries a tooltip with its minute and figures.
 */
export function throughputChart(series: MinuteCounts[], opts: { label: string; clock: (ms: number) => string }): string {
  const width = 300;
  const height = 96;
  const top = 14;
  const base = height - 14;
  const max = Math.max(1, ...series.map((m) => Math.max(m.received, m.sent)));
  const slot = width / Math.max(1, series.length);
  const barW = Math.max(1, slot * 0.42);
  const y = (v: number) => base - ((base - top) * v) / max;
  const bars = series
    .map((m, i) => {
      const x = i * slot + slot * 0.06;
      const tip = `${opts.clock(m.minute)}: ${formatCount(m.received)} received, ${formatCount(m.sent)} sent`;
      return (
        `<g><title>${esc(tip)}</title>` +
        `<rect class="rcv" x="${x.toFixed(1)}" y="${y(m.received).toFixed(1)}" width="${barW.toFixed(1)}" height="${(base - y(m.received)).toFixed(1)}"/>` +
        `<rect class="snt" x="${(x + barW).toFixed(1)}" y="${y(m.sent).toFixed(1)}" width="${barW.toFixed(1)}" height="${(base - y(m.sent)).toFixed(1)}"/></g>`
      );
    })
    .join('');
  const first = series[0];
  const last = series[series.length - 1];
  return (
    `<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(opts.label)}">` +
    `<line class="axis" x1="0" y1="${base}" x2="${width}" y2="${base}"/>` +
    `<text class="lbl" x="2" y="11">${esc(formatCount(max))} / min</text>` +
    bars +
    (first ? `<text class="lbl" x="2" y="${height - 3}">${esc(opts.clock(first.minute))}</text>` : '') +
    (last ? `<text class="lbl" x="${width - 2}" y="${height - 3}" text-anchor="end">${esc(opts.clock(last.minute))}</text>` : '') +
    `</svg>`
  );
}
