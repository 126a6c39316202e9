// The process's transactions as a specification, without a broker: how parts of different
// partitions share a transaction, what a failure does to every part in it and to its producer,
// and when a revoked partition is released. The producer here only records the calls made
// on it: what Kafka does with them is proven by the integration tests (I5 above all).
import { describe, expect, it } from 'vitest';
import type { KafkaConsumer } from '../../src/kafka/index.js';
import { OwnershipChangedError } from '../../src/streams/errors.js';
import { ProcessTransactions, TransactionFailure, type TransactionPart } from '../../src/writer/process-transactions.js';
import type { TransactionalProducer } from '../../src/writer/producer-factory.js';

interface Recorded {
  readonly id: string;
  readonly calls: string[];
  disconnected: boolean;
}

/** A producer that records its calls; `hold` keeps the next commit waiting until released. */
function recordingProducers(options: { failCommit?: number } = {}) {
  const made: Recorded[] = [];
  let commits = 0;
  const holds: (() => void)[] = [];
  let holdNext = false;
  const factory = async (config: { transactionalId?: string }): Promise<TransactionalProducer> => {
    const rec: Recorded = { id: config.transactionalId!, calls: [], disconnected: false };
    made.push(rec);
    return {
      initTransactions: async () => void rec.calls.push('init'),
      beginTransaction: async () => void rec.calls.push('begin'),
      send: async () => ({ topic: 't', partition: 0, offset: 0 }) as never,
      sendOffsetsToTransaction: async (offsets) => void rec.calls.push(`offsets ${offsets.map((o) => `${o.partition}@${o.offset}`).join(',')}`),
      commitTransaction: async () => {
        rec.calls.push('commit');
        commits++;
        if (options.failCommit === commits) throw new Error('commit failed');
        if (holdNext) {
          holdNext = false;
          await new Promise<void>((resolve) => holds.push(resolve));
        }
      },
      abortTransaction: async () => void rec.calls.push('abort'),
      disconnect: async () => void (rec.disconnected = true),
    };
  };
  return { made, factory, hold: () => (holdNext = true), release: () => holds.shift()?.() };
}

function transactions(factory: ReturnType<typeof recordingProducers>['factory'], pool = 1) {
  return new ProcessTransactions({
    connection: { brokers: ['127.0.0.1:9'] },
    transactionalId: 'store.w.host-1',
    transactionTimeoutMs: 10_000,
    timeoutMs: 1_000,
    groupConsumer: {} as KafkaConsumer,
    appendsTopic: 'store.appends',
    pool,
    producers: factory as never,
    log: () => undefined,
  });
}

function part(partition: number, offset = 0, extra: Partial<TransactionPart> = {}): TransactionPart & { phases: string[] } {
  const phases: string[] = [];
  return { partition, produce: async () => offset, entered: (phase) => void phases.push(phase), phases, ...extra };
}

describe('the process transactions', () => {
  it('carries the parts handed in while a transaction runs together in the next one, with every partition offset', async () => {
    const producers = recordingProducers();
    const carrier = transactions(producers.factory);
    await carrier.ready();
    producers.hold();
    const first = carrier.carry(part(0, 5));
    await new Promise((r) => setTimeout(r, 5));
    const second = [carrier.carry(part(1, 7)), carrier.carry(part(2, 9))];
    producers.release();
    await Promise.all([first, ...second]);
    expect(producers.made).toHaveLength(1);
    expect(producers.made[0]!.calls).toEqual(['init', 'begin', 'offsets 0@5', 'commit', 'begin', 'offsets 1@7,2@9', 'commit']);
  });

  it('tells each part the steps of its transaction, the offsets only after every record was produced', async () => {
    const producers = recordingProducers();
    const carrier = transactions(producers.factory);
    const a = part(0);
    await carrier.carry(a);
    expect(a.phases).toEqual(['begin', 'produce', 'send-offsets', 'commit']);
  });

  it('fails every part of a failed transaction with the step it failed in, and never reuses its producer', async () => {
    const producers = recordingProducers({ failCommit: 2 });
    const carrier = transactions(producers.factory);
    await carrier.ready();
    producers.hold();
    const first = carrier.carry(part(3));
    await new Promise((r) => setTimeout(r, 5));
    const together = [carrier.carry(part(0)), carrier.carry(part(1))].map((p) => p.catch((error: unknown) => error));
    producers.release();
    await first;
    const failures = await Promise.all(together);
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(TransactionFailure);
      expect((failure as TransactionFailure).phase).toBe('commit');
    }
    expect(producers.made[0]!.disconnected).toBe(true);
    await carrier.replaced((failures[0] as TransactionFailure).producerGeneration);
    expect(producers.made).toHaveLength(2);
    expect(producers.made[1]!.id).toBe('store.w.host-1'); // the same id: a new epoch fences the failed one
    await carrier.carry(part(0));
    expect(producers.made[1]!.calls).toEqual(['init', 'begin', 'offsets 0@0', 'commit']);
    expect(producers.made[0]!.calls).toEqual(['init', 'begin', 'offsets 3@0', 'commit', 'begin', 'offsets 0@0,1@0', 'commit']);
  });

  it('aborts a transaction that failed before its commit', async () => {
    const producers = recordingProducers();
    const carrier = transactions(producers.factory);
    const bad = part(1, 0, { produce: async () => Promise.reject(new Error('record refused')) });
    const results = await Promise.allSettled([carrier.carry(part(0)), carrier.carry(bad)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(producers.made[0]!.calls).toEqual(['init', 'begin', 'abort']);
  });

  it('carries a part that must go alone in a transaction of its own', async () => {
    const producers = recordingProducers();
    const carrier = transactions(producers.factory);
    await carrier.ready();
    producers.hold();
    const first = carrier.carry(part(3));
    await new Promise((r) => setTimeout(r, 5));
    const rest = [carrier.carry(part(0, 1, { alone: true })), carrier.carry(part(1, 2)), carrier.carry(part(2, 3))];
    producers.release();
    await Promise.all([first, ...rest]);
    expect(producers.made[0]!.calls.filter((c) => c.startsWith('offsets'))).toEqual(['offsets 3@0', 'offsets 0@1', 'offsets 1@2,2@3']);
  });

  it('runs a transaction on each producer of the pool, with ids of their own', async () => {
    const producers = recordingProducers();
    const carrier = transactions(producers.factory, 2);
    await carrier.ready();
    producers.hold();
    const first = carrier.carry(part(0));
    await new Promise((r) => setTimeout(r, 5));
    // The first producer waits in its commit: the second carries partition 1 meanwhile.
    await carrier.carry(part(1));
    producers.release();
    await first;
    expect(producers.made.map((p) => p.id).sort()).toEqual(['store.w.host-1.0', 'store.w.host-1.1']);
    expect(producers.made.map((p) => p.calls.filter((c) => c === 'commit').length)).toEqual([1, 1]);
  });

  it('releases a revoked partition only once the transaction carrying it has ended; a waiting part is refused', async () => {
    const producers = recordingProducers();
    const carrier = transactions(producers.factory);
    await carrier.ready();
    producers.hold();
    const inFlight = carrier.carry(part(0));
    await new Promise((r) => setTimeout(r, 5));
    const waiting = carrier.carry(part(0)).catch((error: unknown) => error);
    let released = false;
    const release = carrier.released(0, 10_000).then(() => (released = true));
    expect(((await waiting) as TransactionFailure).cause).toBeInstanceOf(OwnershipChangedError);
    await new Promise((r) => setTimeout(r, 20));
    expect(released).toBe(false);
    producers.release();
    await inFlight;
    await release;
    expect(released).toBe(true);
  });

  it('replaces the producer of a transaction that outlives the bound at a revocation', async () => {
    const producers = recordingProducers();
    const carrier = transactions(producers.factory);
    await carrier.ready();
    producers.hold();
    void carrier.carry(part(0)).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 5));
    await carrier.released(0, 20);
    expect(producers.made[0]!.disconnected).toBe(true);
    expect(producers.made).toHaveLength(2); // the successor's initTransactions aborts what the old one left open
    expect(producers.made[1]!.calls).toEqual(['init']);
    producers.release();
  });
});
