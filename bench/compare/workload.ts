// What every workload of the comparison gets (the systems to measure, their connections) and
// how it names its figures: `<workload>.<case>.<system>.<metric>`, e.g.
// `concurrent-writers.w64.scribe.eventsPerSec`, so that the report and the chart can find them.
import type { SelfCheckSummary } from './self-check.js';
import type { EmmettStore } from './postgres.js';

export const systemNames = ['scribe', 'raw', 'emmett'] as const;
export type SystemName = (typeof systemNames)[number];

export const workloadNames = ['concurrent-writers', 'hot-stream', 'read-stream', 'catch-up'] as const;
export type WorkloadName = (typeof workloadNames)[number];

export interface WorkloadContext {
  readonly brokers: string[];
  readonly systems: ReadonlySet<SystemName>;
  /** 1-based; the order of the systems alternates with it, so that none always meets a warmer machine. */
  readonly repetition: number;
  /** Emmett's store on this run's database for writes (undefined when Emmett is not measured). */
  readonly emmett: EmmettStore | undefined;
  /** Distinguishes this repetition's Emmett streams from earlier ones in the run's database. */
  readonly tag: string;
  log(line: string): void;
}

export interface WorkloadResult {
  readonly figures: Record<string, number>;
  readonly details: Record<string, unknown>;
  readonly selfChecks: SelfCheckSummary[];
}

export function emptyResult(): WorkloadResult {
  return { figures: {}, details: {}, selfChecks: [] };
}

/** Sets `<workload>.<case>.<variant>.<metric>` for each metric. */
export function record(result: WorkloadResult, workload: WorkloadName, caseName: string, variant: string, metrics: Record<string, number>): void {
  for (const [metric, value] of Object.entries(metrics)) result.figures[`${workload}.${caseName}.${variant}.${metric}`] = value;
}

/** The measurements of one case in this repetition's order: rotated by the repetition. */
export function inTurn<T>(items: readonly T[], repetition: number): T[] {
  const shift = items.length === 0 ? 0 : (repetition - 1) % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

/** Runs each selected system's measurement, in this repetition's turn. */
export async function measureInTurn(measurements: readonly { readonly system: SystemName; run(): Promise<void> }[], context: WorkloadContext): Promise<void> {
  for (const m of inTurn(measurements, context.repetition)) if (context.systems.has(m.system)) await m.run();
}

/** Event data whose JSON encoding is exactly `bytes` long, the same object for every store: {"p":"xx…"}. */
export function eventData(bytes: number): { p: string } {
  return { p: 'x'.repeat(Math.max(0, bytes - 8)) };
}
