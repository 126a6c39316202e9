// The comparison's median figures grouped for presentation: one panel per workload case
// (e.g. concurrent-writers at 64 writers), one row per system in it, with its throughput and
// latency percentiles. The chart and the Markdown table are drawn from these.
import { workloadNames } from './workload.js';

/** Which per-second figure a row's throughput is, in order of preference. */
const rateMetrics = [
  ['eventsPerSec', 'events/s'],
  ['commandsPerSec', 'accepted commands/s'],
  ['loadsPerSec', 'loads/s'],
] as const;

export interface PanelRow {
  readonly variant: string;
  /** The system the variant belongs to: scribe, raw or emmett (its first word). */
  readonly system: string;
  readonly rate: number | undefined;
  readonly p50Ms: number | undefined;
  readonly p95Ms: number | undefined;
  readonly p99Ms: number | undefined;
  readonly retriesPerCommand: number | undefined;
  /** CPU during the measurement: this process's and the broker's (% of one core), the machine's (% of all cores). */
  readonly processCpuPct: number | undefined;
  readonly brokerCpuPct: number | undefined;
  readonly machineCpuPct: number | undefined;
}

export interface Panel {
  readonly workload: string;
  readonly caseName: string;
  readonly title: string;
  readonly rateUnit: string;
  readonly rows: PanelRow[];
}

const caseTitles: Record<string, (n: string) => string> = {
  w: (n) => `${n} writers`,
  read: (n) => `read a ${Number(n).toLocaleString('en-US')}-event stream`,
  load: (n) => `load an aggregate of ${Number(n).toLocaleString('en-US')} events`,
};

function caseTitle(caseName: string): string {
  if (caseName === 'txn') return 'raw transactional producer (reference)';
  if (caseName === 'from-start') return 'subscriber reading every stored event from the start';
  const match = /^(w|read-|load-)(\d+)$/.exec(caseName);
  return match ? caseTitles[match[1]!.replace('-', '')]!(match[2]!) : caseName;
}

/** Panels in workload order, cases in the order their figures first appear, rows likewise. */
export function panelsOf(medians: Record<string, number>): Panel[] {
  const panels = new Map<string, { workload: string; caseName: string; variants: Map<string, Record<string, number>> }>();
  for (const [name, value] of Object.entries(medians)) {
    const parts = name.split('.');
    if (parts.length !== 4 || !(workloadNames as readonly string[]).includes(parts[0]!)) continue;
    const [workload, caseName, variant, metric] = parts as [string, string, string, string];
    const key = `${workload}.${caseName}`;
    const panel = panels.get(key) ?? { workload, caseName, variants: new Map() };
    panels.set(key, panel);
    const metrics = panel.variants.get(variant) ?? {};
    metrics[metric] = value;
    panel.variants.set(variant, metrics);
  }
  const order = (workload: string) => (workloadNames as readonly string[]).indexOf(workload);
  return [...panels.values()]
    .sort((a, b) => order(a.workload) - order(b.workload))
    .map(({ workload, caseName, variants }) => {
      const first = [...variants.values()][0] ?? {};
      const [rateMetric, rateUnit] = rateMetrics.find(([metric]) => metric in first) ?? rateMetrics[0];
      return {
        workload,
        caseName,
        title: `${workload}: ${caseTitle(caseName)}`,
        rateUnit,
        rows: [...variants].map(([variant, m]) => ({
          variant,
          system: variant.split('-')[0]!,
          rate: m[rateMetric],
          p50Ms: m.p50Ms,
          p95Ms: m.p95Ms,
          p99Ms: m.p99Ms,
          retriesPerCommand: m.retriesPerCommandRatio,
          processCpuPct: m.processCpuPct,
          brokerCpuPct: m.brokerCpuPct,
          machineCpuPct: m.machineCpuPct,
        })),
      };
    });
}
