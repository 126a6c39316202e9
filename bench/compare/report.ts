// What the comparison concludes: ratios between systems computed within each repetition (so
// that both sides met the same machine), issue 7's targets met or missed by how much, and the
// Markdown table for docs/benchmarks.md.
import { medianFormatter, round } from '../stats.js';
import type { Panel } from './panels.js';

export interface RatioDefinition {
  /** Figure name: ratios.<workload>.<case>.<what>Ratio. */
  readonly name: string;
  readonly label: string;
  readonly numerator: string;
  readonly denominator: string;
}

export interface Target {
  readonly label: string;
  readonly ratio: string;
  readonly atLeast: number;
}

export interface RatioPlan {
  readonly writers: readonly number[];
  readonly hotWriters: readonly number[];
  readonly commitEvery: readonly number[];
}

export function ratioDefinitions(p: RatioPlan): RatioDefinition[] {
  const cw = (w: number, variant: string) => `concurrent-writers.w${w}.${variant}.eventsPerSec`;
  return [
    ...p.writers.flatMap((w) => [
      ...p.commitEvery.map((n) => ({ name: `ratios.concurrent-writers.w${w}.scribeOverRawTxn${n}Ratio`, label: `concurrent-writers, ${w} writers: Scribe / raw transactional (commit every ${n})`, numerator: cw(w, 'scribe'), denominator: `concurrent-writers.txn.raw-txn-${n}.eventsPerSec` })),
      { name: `ratios.concurrent-writers.w${w}.scribeOverRawIdempotentRatio`, label: `concurrent-writers, ${w} writers: Scribe / raw idempotent (${w} in flight)`, numerator: cw(w, 'scribe'), denominator: cw(w, 'raw-idempotent') },
      { name: `ratios.concurrent-writers.w${w}.scribeOverEmmettRatio`, label: `concurrent-writers, ${w} writers: Scribe / Emmett`, numerator: cw(w, 'scribe'), denominator: cw(w, 'emmett') },
    ]),
    ...p.hotWriters.flatMap((w) => [
      { name: `ratios.hot-stream.w${w}.executeOverEmmettRatio`, label: `hot-stream, ${w} writers: Scribe execute / Emmett CommandHandler`, numerator: `hot-stream.w${w}.scribe-execute.commandsPerSec`, denominator: `hot-stream.w${w}.emmett-handler.commandsPerSec` },
      { name: `ratios.hot-stream.w${w}.handleOverEmmettRatio`, label: `hot-stream, ${w} writers: Scribe handle / Emmett CommandHandler`, numerator: `hot-stream.w${w}.scribe-handle.commandsPerSec`, denominator: `hot-stream.w${w}.emmett-handler.commandsPerSec` },
    ]),
    { name: 'ratios.catch-up.from-start.scribeOverRawConsumerRatio', label: 'catch-up: Scribe subscribe / raw consumer', numerator: 'catch-up.from-start.scribe-subscribe.eventsPerSec', denominator: 'catch-up.from-start.raw-consumer.eventsPerSec' },
    { name: 'ratios.catch-up.from-start.scribeOverEmmettRatio', label: "catch-up: Scribe subscribe / Emmett's global-log puller", numerator: 'catch-up.from-start.scribe-subscribe.eventsPerSec', denominator: 'catch-up.from-start.emmett-puller.eventsPerSec' },
    { name: 'ratios.catch-up.from-start.scribeOverEmmettConsumerRatio', label: "catch-up: Scribe subscribe / Emmett's consumer (checkpoint per message)", numerator: 'catch-up.from-start.scribe-subscribe.eventsPerSec', denominator: 'catch-up.from-start.emmett-consumer.eventsPerSec' },
  ];
}

/** Ratios whose read-stream figures depend on the sizes: events read per second, loads per second. */
export function readRatioDefinitions(readEvents: number, aggregateEvents: number): RatioDefinition[] {
  return [
    { name: `ratios.read-stream.read-${readEvents}.scribeOverEmmettRatio`, label: `read-stream, ${readEvents} events: Scribe / Emmett (events read per second)`, numerator: `read-stream.read-${readEvents}.scribe.eventsPerSec`, denominator: `read-stream.read-${readEvents}.emmett.eventsPerSec` },
    { name: `ratios.read-stream.load-${aggregateEvents}.scribeOverEmmettRatio`, label: `read-stream, load of ${aggregateEvents} events: Scribe (snapshot) / Emmett (fold), loads per second`, numerator: `read-stream.load-${aggregateEvents}.scribe-snapshot.loadsPerSec`, denominator: `read-stream.load-${aggregateEvents}.emmett-fold.loadsPerSec` },
  ];
}

/** Adds each ratio whose two figures this repetition measured. */
export function addRatios(figures: Record<string, number>, definitions: RatioDefinition[]): void {
  for (const d of definitions) {
    const [a, b] = [figures[d.numerator], figures[d.denominator]];
    if (a !== undefined && b !== undefined && b > 0) figures[d.name] = round(a / b, 3);
  }
}

/** Issue 7's targets, in the same run. */
export function targets(p: RatioPlan): Target[] {
  const most = Math.max(...p.writers);
  return [
    ...p.commitEvery.map((n) => ({ label: `Scribe concurrent-writers at ${most} writers >= 0.5 x raw transactional producer (commit every ${n})`, ratio: `ratios.concurrent-writers.w${most}.scribeOverRawTxn${n}Ratio`, atLeast: 0.5 })),
    { label: `Scribe concurrent-writers at ${most} writers >= 5 x Emmett`, ratio: `ratios.concurrent-writers.w${most}.scribeOverEmmettRatio`, atLeast: 5 },
    ...p.hotWriters.map((w) => ({ label: `hot-stream at ${w} writers: Scribe execute >= 20 x Emmett's accepted commands/s`, ratio: `ratios.hot-stream.w${w}.executeOverEmmettRatio`, atLeast: 20 })),
    { label: 'catch-up: Scribe subscribe >= 0.5 x raw consumer', ratio: 'ratios.catch-up.from-start.scribeOverRawConsumerRatio', atLeast: 0.5 },
  ];
}

export type Verdict = { readonly state: 'met' | 'missed' | 'not measured'; readonly text: string };

export function verdict(target: Target, medians: Record<string, number>): Verdict {
  const value = medians[target.ratio];
  if (value === undefined || Number.isNaN(value)) return { state: 'not measured', text: 'not measured' };
  if (value >= target.atLeast) return { state: 'met', text: `met (${value})` };
  const short = round((1 - value / target.atLeast) * 100, 0);
  return { state: 'missed', text: `MISSED: ${value}, ${short}% short (Scribe would need ${round(target.atLeast / value, 2)}x its figure)` };
}

export interface RunFacts {
  readonly startedAt: string;
  readonly command: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly loadAverage1m: number;
  readonly node: string;
  readonly versions: Record<string, string>;
  readonly repeat: number;
  readonly warmups: number;
  readonly resultFile: string;
  readonly chartFile: string;
}

/** A table cell: whole numbers from 100 (rates from 10), else two decimals. */
const cell = (value: number | undefined, wholeFrom = 100) => (value === undefined || Number.isNaN(value) ? '' : value >= wholeFrom ? Math.round(value).toLocaleString('en-US') : value.toFixed(2));

/** The section for docs/benchmarks.md: facts, one table of every figure, ratios, targets. */
export function markdownReport(facts: RunFacts, panels: Panel[], ratios: RatioDefinition[], goals: Target[], medians: Record<string, number>): string {
  const show = medianFormatter(medians);
  const lines = [
    `### ${facts.startedAt.slice(0, 10)}, ${facts.startedAt.slice(11, 16)} UTC`,
    '',
    `- Command: \`${facts.command}\`; medians of ${facts.repeat} repetition(s) after ${facts.warmups} discarded warm-up(s).`,
    `- Machine: ${facts.cpus} cores (${facts.cpuModel}), ${facts.memoryGiB} GiB, Node ${facts.node}; load average ${facts.loadAverage1m} at the start.`,
    `- Versions: ${Object.entries(facts.versions).map(([name, version]) => `${name} ${version}`).join(', ')}.`,
    `- Result file: \`${facts.resultFile}\`; chart: \`${facts.chartFile}\`.`,
    '',
    '| workload | case | system | throughput | p50 | p95 | p99 | retries per command | CPU: process / broker / machine |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const panel of panels) {
    for (const row of panel.rows) {
      lines.push(`| ${panel.workload} | ${panel.title.slice(panel.workload.length + 2)} | ${row.variant} | ${cell(row.rate, 10)} ${row.rate === undefined ? '' : panel.rateUnit} | ${cell(row.p50Ms)} | ${cell(row.p95Ms)} | ${cell(row.p99Ms)} | ${cell(row.retriesPerCommand)} | ${row.processCpuPct === undefined ? '' : [row.processCpuPct, row.brokerCpuPct, row.machineCpuPct].map((v) => (v === undefined || Number.isNaN(v) ? '-' : `${Math.round(v)}%`)).join(' / ')} |`);
    }
  }
  lines.push(
    '',
    'Latencies in milliseconds: one append (concurrent-writers; for the raw transactional reference, one transaction of N records), one command with its retries (hot-stream), one whole read or load (read-stream). CPU during the measurement: the bench process (the client side, all its threads) and the broker JVM in % of one core, and the whole machine (PostgreSQL and other work included) in % of all its cores.',
    '',
  );
  lines.push('| ratio (median of the per-repetition ratios) | value |', '| --- | ---: |');
  for (const r of ratios) if (medians[r.name] !== undefined) lines.push(`| ${r.label} | ${show(r.name)} |`);
  lines.push('', '| target | verdict |', '| --- | --- |');
  for (const goal of goals) lines.push(`| ${goal.label} | ${verdict(goal, medians).text} |`);
  lines.push('');
  return lines.join('\n');
}
