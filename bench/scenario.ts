// What a benchmark scenario provides to the harness (bench/main.ts). A scenario measures one
// repetition; the harness runs the warm-up and the repetitions, computes the medians, and
// writes the result file.
import type { Command } from 'commander';
import type { Machine } from './environment.js';

export interface BenchContext {
  /** host:port pairs of the broker(s) this run uses. */
  readonly brokers: string[];
  /** 1-based number of this repetition; warm-ups count separately. */
  readonly repetition: number;
  /** True for a warm-up repetition, whose figures are discarded. */
  readonly warmUp: boolean;
  /** Progress line on stderr. */
  log(line: string): void;
}

export interface RepetitionResult {
  /**
   * Named numeric figures, e.g. `confluent.idempotent.recordsPerSec`; the harness reports
   * the median of each name over the repetitions. Names end in their unit (PerSec, Ms, Ratio).
   */
  readonly figures: Record<string, number>;
  /** Anything else worth keeping for this repetition: counts, elapsed times, per-case settings. */
  readonly details?: Record<string, unknown>;
}

export interface Scenario<Options> {
  readonly name: string;
  readonly description: string;
  /** Adds the scenario's own options to its command (the harness adds --repeat and --warmup). */
  defineOptions(command: Command): void;
  /** Turns commander's parsed option values into the scenario's options, validating them. */
  parseOptions(raw: Record<string, unknown>): Options;
  /** One repetition. Self-contained: it creates what it needs (topics, clients) and removes it. */
  run(options: Options, context: BenchContext): Promise<RepetitionResult>;
  /** Facts about the method that belong next to the figures (client settings, caveats). */
  notes?(options: Options): string[];
  /** Versions of what the scenario measures, beyond those the harness always records (asked after the repetitions). */
  versions?(): Record<string, string> | Promise<Record<string, string>>;
  /** The human summary from the medians; the harness lists the median figures when absent. */
  summarize?(medians: Record<string, number>, options: Options): string[];
  /**
   * Releases what the scenario kept across the repetitions of one run (data written once and
   * only read, a database of the run's own). Called once after the last repetition, also when
   * one failed.
   */
  release?(): Promise<void>;
  /** After the result file is written: further artefacts from it (a chart, a table); returns lines for the summary. */
  publish?(run: FinishedRun, options: Options): string[];
}

/** A run as the harness wrote it to its result file. */
export interface FinishedRun {
  readonly file: string;
  readonly command: string;
  readonly startedAt: string;
  readonly machine: Machine;
  readonly versions: Record<string, string>;
  readonly repeat: number;
  readonly warmups: number;
  readonly medians: Record<string, number>;
}

/** Scenarios are registered as Scenario<unknown>; each keeps its own Options type inside. */
export type AnyScenario = Scenario<any>;

/** Parses a positive integer option, with the option's name in the error. */
export function positiveInteger(name: string, value: unknown): number {
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`--${name} must be a positive integer, not "${String(value)}"`);
  return number;
}

/** Parses a comma-separated list of positive integers, e.g. "100,1000". */
export function positiveIntegers(name: string, value: unknown): number[] {
  return String(value)
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => positiveInteger(name, part));
}
