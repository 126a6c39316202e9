// The read-model process of the demo: keeps account balances and the transfer ledger in
// PostgreSQL with a projection (examples/bank-read-model.ts) while the tellers work.
import { keepBankReadModel } from '../examples/bank-read-model.js';
import { EventStore } from '../src/index.js';
import { openPool } from '../src/projections/index.js';

interface Job {
  brokers: string[];
  store: string;
  schema: string;
}

const report = (message: object) => process.send?.(message);

process.once('message', (job: Job) => {
  void (async () => {
    const store = await EventStore.connect({ brokers: job.brokers, store: job.store, writer: false, dataDir: `.scribe/demo/${job.store}/read-model` });
    const pool = await openPool();
    const runner = await keepBankReadModel(store, pool, job.schema);
    report({ type: 'started' });
    const stop = () =>
      void (async () => {
        await runner.stop();
        await store.close();
        await pool.end();
        process.exit(0);
      })();
    process.once('message', stop);
    // The demo ended without asking (it failed): do not outlive it.
    process.once('disconnect', stop);
    await runner.done;
  })().catch((error: unknown) => {
    report({ type: 'error', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    process.exit(1);
  });
});
