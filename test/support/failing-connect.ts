// A process that connects a store with one of connect's steps made to fail, then reports what
// it left behind (threads, timers, the index lock) and lets itself exit: it must, on its own,
// once the rollback has stopped everything the connect started.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KafkaEventStore } from '../../src/index.js';
import type { ConnectStep } from '../../src/store/composition.js';
import { StreamIndex } from '../../src/stream-index/stream-index.js';

export interface FailingConnect {
  readonly brokers: string[];
  readonly store: string;
  readonly dataDir: string;
  readonly failAfter: ConnectStep;
}

export interface LeftBehind {
  /** The connect's error message. */
  readonly error: string;
  readonly threadsBefore: number;
  readonly threadsAfter: number;
  /** Node's active resources once the threads are gone (timers show as 'Timeout'). */
  readonly resources: string[];
  /** Whether another store could take the data directory's index. */
  readonly indexFree: boolean;
}

const threads = () => Number(/^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);

process.once('message', (order: FailingConnect) => {
  void (async () => {
    const threadsBefore = threads();
    const error = await KafkaEventStore.compose(
      { brokers: order.brokers, store: order.store, dataDir: order.dataDir, partitions: 2, sessionTimeoutMs: 6_000 },
      {
        afterStep: (step) => {
          if (step === order.failAfter) throw new Error(`injected failure after step ${step}`);
        },
      },
    ).then(
      async (store) => {
        await store.close();
        return 'the connect succeeded';
      },
      (e: unknown) => String(e),
    );
    // librdkafka's threads end a moment after their client is destroyed.
    for (const deadline = Date.now() + 10_000; threads() > threadsBefore && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
    const indexFree = await StreamIndex.ensureNotInUse(join(order.dataDir, 'index'), 'dataDir').then(
      () => true,
      () => false,
    );
    const report: LeftBehind = { error, threadsBefore, threadsAfter: threads(), resources: process.getActiveResourcesInfo(), indexFree };
    process.send!(report, () => process.disconnect());
  })();
});
