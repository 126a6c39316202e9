// Drives a number of asynchronous operations with a bounded number in flight, timing the
// whole run and, when asked, each operation (from its start to its settlement).
import { performance } from 'node:perf_hooks';

export interface WindowedRun {
  /** From the first start to the last settlement. */
  readonly elapsedMs: number;
  /** Per-operation latencies in milliseconds, in completion order; empty unless requested. */
  readonly latenciesMs: number[];
}

export interface WindowedOptions {
  /** How many operations to run, numbered 0..total-1. */
  readonly total: number;
  /** Most operations in flight at once. */
  readonly window: number;
  readonly recordLatency?: boolean;
}

/** Runs `operation(i)` for every i with at most `window` in flight; rejects on the first failure. */
export function runWindowed(options: WindowedOptions, operation: (index: number) => Promise<unknown>): Promise<WindowedRun> {
  const { total, window } = options;
  const latenciesMs: number[] = [];
  return new Promise<WindowedRun>((resolve, reject) => {
    if (total <= 0) {
      resolve({ elapsedMs: 0, latenciesMs });
      return;
    }
    const started = performance.now();
    let next = 0;
    let done = 0;
    let failed = false;
    const startOne = (): void => {
      const index = next++;
      const began = options.recordLatency ? performance.now() : 0;
      let pending: Promise<unknown>;
      try {
        pending = operation(index);
      } catch (error) {
        pending = Promise.reject(error);
      }
      pending.then(
        () => {
          if (failed) return;
          if (options.recordLatency) latenciesMs.push(performance.now() - began);
          done++;
          if (done === total) resolve({ elapsedMs: performance.now() - started, latenciesMs });
          else if (next < total) startOne();
        },
        (error: unknown) => {
          if (failed) return;
          failed = true;
          reject(error);
        },
      );
    };
    for (let i = 0; i < Math.min(window, total); i++) startOne();
  });
}
