// Statistics shared by every benchmark scenario: medians across repetitions and latency
// percentiles within one. Percentiles use the nearest-rank method on the sorted samples.

/** The median of the values (mean of the two middle ones for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Nearest-rank percentile (0 < p <= 100) of values that are already sorted ascending. */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** p50/p95/p99 of latency samples given in milliseconds. */
export function latencySummary(samplesMs: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(samplesMs).sort();
  const values = Array.from(sorted);
  const sum = values.reduce((total, value) => total + value, 0);
  return {
    count: values.length,
    meanMs: round(values.length ? sum / values.length : Number.NaN),
    p50Ms: round(percentileOfSorted(values, 50)),
    p95Ms: round(percentileOfSorted(values, 95)),
    p99Ms: round(percentileOfSorted(values, 99)),
    maxMs: round(values.length ? values[values.length - 1]! : Number.NaN),
  };
}

/** Events per second, rounded to a whole number. */
export function perSecond(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? Math.round((count * 1000) / elapsedMs) : Number.NaN;
}

/** Per figure name, the median of that figure over the repetitions that report it. */
export function medianFigures(repetitions: readonly Record<string, number>[]): Record<string, number> {
  const names = [...new Set(repetitions.flatMap((figures) => Object.keys(figures)))];
  return Object.fromEntries(
    names.map((name) => [name, round(median(repetitions.map((figures) => figures[name]).filter((v): v is number => typeof v === 'number')))]),
  );
}

/** Three decimals: enough for milliseconds, keeps the JSON readable. */
export function round(value: number, decimals = 3): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/** Formats a median figure by name for a summary line: '-' when it is missing or NaN. */
export function medianFormatter(medians: Record<string, number>): (name: string, unit?: string) => string {
  return (name, unit = '') => {
    const value = medians[name];
    return value === undefined || Number.isNaN(value) ? '-' : `${value.toLocaleString('en-US')}${unit}`;
  };
}
