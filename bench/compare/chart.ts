// The comparison as one SVG image: per workload case, a throughput bar per system (each panel
// on its own linear scale, since the cases differ by orders of magnitude) and the latency
// percentiles p50, p95 and p99 per system on one shared logarithmic scale. Plain SVG 1.1
// text written here, so that the chart needs no library and diffs as text.
import type { Panel, PanelRow } from './panels.js';

const width = 1000;
const labelWidth = 230;
const barLeft = labelWidth + 10;
const barMax = 560;
const rowHeight = 18;
const systemColours: Record<string, string> = { scribe: '#2b6cb0', raw: '#718096', emmett: '#c05621' };

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function colour(row: PanelRow): string {
  return systemColours[row.system] ?? '#4a5568';
}

function format(value: number): string {
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function text(x: number, y: number, content: string, attributes = ''): string {
  return `<text x="${x}" y="${y}" ${attributes}>${escape(content)}</text>`;
}

export interface ChartHeading {
  readonly title: string;
  /** Lines under the title: machine, versions, command. */
  readonly subtitle: string[];
}

/** The whole chart as an SVG document. */
export function compareChart(heading: ChartHeading, panels: Panel[]): string {
  const parts: string[] = [];
  let y = 28;
  parts.push(text(10, y, heading.title, 'font-size="16" font-weight="bold"'));
  for (const line of heading.subtitle) {
    y += 16;
    parts.push(text(10, y, line, 'font-size="11" fill="#4a5568"'));
  }
  y += 14;
  parts.push(legend(y));
  y += 24;

  parts.push(text(10, y, 'Throughput (medians; longer is better; each panel on its own scale)', 'font-size="14" font-weight="bold"'));
  y += 10;
  for (const panel of panels) {
    const rows = panel.rows.filter((row) => row.rate !== undefined && !Number.isNaN(row.rate));
    if (rows.length === 0) continue;
    y += 20;
    parts.push(text(10, y, `${panel.title} (${panel.rateUnit})`, 'font-size="12" font-weight="bold"'));
    const most = Math.max(...rows.map((row) => row.rate!));
    for (const row of rows) {
      y += rowHeight;
      const length = most > 0 ? Math.max(1, (row.rate! / most) * barMax) : 1;
      const retries = row.retriesPerCommand !== undefined ? `, ${format(row.retriesPerCommand)} retries/command` : '';
      parts.push(text(labelWidth, y, row.variant, 'font-size="11" text-anchor="end"'));
      parts.push(`<rect x="${barLeft}" y="${y - 11}" width="${length.toFixed(1)}" height="13" fill="${colour(row)}"/>`);
      parts.push(text(barLeft + length + 6, y, `${format(row.rate!)}${retries}`, 'font-size="11"'));
    }
  }

  const latencyPanels = panels.map((panel) => ({ ...panel, rows: panel.rows.filter((row) => row.p50Ms !== undefined && row.p99Ms !== undefined) })).filter((panel) => panel.rows.length > 0);
  if (latencyPanels.length > 0) {
    const values = latencyPanels.flatMap((panel) => panel.rows.flatMap((row) => [row.p50Ms!, row.p99Ms!])).filter((v) => v > 0);
    const low = Math.floor(Math.log10(Math.max(0.01, Math.min(...values))));
    const high = Math.ceil(Math.log10(Math.max(...values, 1)));
    const span = Math.max(1, high - low);
    const xOf = (ms: number) => barLeft + ((Math.log10(Math.max(ms, 10 ** low)) - low) / span) * barMax;

    y += 40;
    parts.push(text(10, y, 'Latency of one operation: p50 (dot), p95 (bar), p99 (end of line), milliseconds on a log scale; shorter is better', 'font-size="14" font-weight="bold"'));
    y += 8;
    const axisTop = y;
    for (const panel of latencyPanels) {
      y += 20;
      parts.push(text(10, y, panel.title, 'font-size="12" font-weight="bold"'));
      for (const row of panel.rows) {
        y += rowHeight;
        const [x50, x95, x99] = [xOf(row.p50Ms!), xOf(row.p95Ms ?? row.p50Ms!), xOf(row.p99Ms!)];
        parts.push(text(labelWidth, y, row.variant, 'font-size="11" text-anchor="end"'));
        parts.push(`<line x1="${x50.toFixed(1)}" y1="${y - 4}" x2="${x99.toFixed(1)}" y2="${y - 4}" stroke="${colour(row)}" stroke-width="2"/>`);
        parts.push(`<line x1="${x95.toFixed(1)}" y1="${y - 10}" x2="${x95.toFixed(1)}" y2="${y + 2}" stroke="${colour(row)}" stroke-width="2"/>`);
        parts.push(`<circle cx="${x50.toFixed(1)}" cy="${y - 4}" r="4" fill="${colour(row)}"/>`);
        parts.push(text(barLeft + barMax + 12, y, `${format(row.p50Ms!)} / ${row.p95Ms !== undefined ? format(row.p95Ms) : '-'} / ${format(row.p99Ms!)} ms`, 'font-size="11"'));
      }
    }
    y += 12;
    // Decades of the log scale, as gridlines behind the marks.
    for (let decade = low; decade <= high; decade++) {
      const x = xOf(10 ** decade);
      parts.unshift(`<line x1="${x.toFixed(1)}" y1="${axisTop}" x2="${x.toFixed(1)}" y2="${y}" stroke="#e2e8f0"/>`);
      parts.push(text(x, y + 14, `${(10 ** decade).toLocaleString('en-US', { maximumFractionDigits: 3 })} ms`, 'font-size="10" text-anchor="middle" fill="#4a5568"'));
    }
    y += 14;
  }
  y += 20;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${width}" height="${y}" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

function legend(y: number): string {
  return Object.entries({ scribe: 'Scribe (Kafka)', raw: 'raw Kafka client', emmett: 'Emmett on PostgreSQL' })
    .map(([system, label], i) => `<rect x="${10 + i * 200}" y="${y - 10}" width="12" height="12" fill="${systemColours[system]}"/>${text(28 + i * 200, y, label, 'font-size="12"')}`)
    .join('');
}
