// The benchmarks count transactions from the writers' batch-committed events, not from gaps
// in the appends' offsets.
import { describe, expect, it } from 'vitest';
import { appendsPerTransaction, batchesSince, CommittedBatches } from '../../bench/committed-batches.js';

describe('committed batches', () => {
  const batches = new CommittedBatches();
  const committed = (time: number, appends: number) => batches.listener({ type: 'batch-committed', partition: 0, appends, events: appends, bytes: 256 * appends, durationMs: 3, time });

  it('count the transactions and the appends they carried, in total and in a window of time', () => {
    const start = batches.total();
    committed(1_000, 10);
    committed(1_500, 30);
    batches.listener({ type: 'conflict', streamId: 's', partition: 0, expected: '1', actual: 2, time: 1_600 });
    committed(2_000, 5);
    expect(batchesSince(start, batches.total())).toEqual({ transactions: 3, appends: 45 });
    expect(batches.between(1_000, 2_000)).toEqual({ transactions: 2, appends: 40 });
    expect(appendsPerTransaction(batches.between(1_000, 2_000))).toBe(20);
  });

  it('give no figure when no writer reported a transaction', () => {
    expect(appendsPerTransaction({ transactions: 0, appends: 0 })).toBeUndefined();
  });
});
