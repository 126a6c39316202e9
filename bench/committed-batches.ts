// Transactions as a store's writers report them (its `batch-committed` events): how many a
// window of time saw and how many appends they carried. Listen with `store.observe(listener)`
// or `connect({ on: listener })`.
import type { StoreListener } from '../src/index.js';

export interface BatchCount {
  readonly transactions: number;
  readonly appends: number;
}

export class CommittedBatches {
  private readonly times: number[] = [];
  private readonly appends: number[] = [];
  private totalAppends = 0;

  readonly listener: StoreListener = (event) => {
    if (event.type !== 'batch-committed') return;
    this.times.push(event.time);
    this.appends.push(event.appends);
    this.totalAppends += event.appends;
  };

  /** Everything committed so far: subtract two of these for a stretch of the run. */
  total(): BatchCount {
    return { transactions: this.times.length, appends: this.totalAppends };
  }

  /** Transactions committed at or after `from` and before `to` (epoch ms). */
  between(from: number, to: number): BatchCount {
    let transactions = 0;
    let appends = 0;
    for (let i = 0; i < this.times.length; i++) {
      if (this.times[i]! < from || this.times[i]! >= to) continue;
      transactions++;
      appends += this.appends[i]!;
    }
    return { transactions, appends };
  }
}

/** The difference of two totals. */
export function batchesSince(before: BatchCount, after: BatchCount): BatchCount {
  return { transactions: after.transactions - before.transactions, appends: after.appends - before.appends };
}

/**
 * Appends per transaction, or undefined when no transaction was reported: the writer did not
 * emit `batch-committed` (a build without it), and the figure is left out rather than invented.
 */
export function appendsPerTransaction(count: BatchCount): number | undefined {
  return count.transactions > 0 ? Math.round((count.appends / count.transactions) * 100) / 100 : undefined;
}
