import type { Pool } from 'pg';
import type { KafkaEventStore } from '../src/index.js';
import { projection, ProjectionRunner } from '../src/projections/index.js';

// Account balances and the transfer ledger, kept in PostgreSQL by a projection.
export function bankReadModel(schema = 'public') {
  const balances = `"${schema}".balances`;
  const ledger = `"${schema}".ledger`;
  return projection({
    name: 'bank',
    tables: [balances, ledger], // what `scribe projections rebuild bank` empties
    async init(tx) {
      await tx.query(`CREATE TABLE IF NOT EXISTS ${balances} (account text PRIMARY KEY, balance bigint NOT NULL)`);
      await tx.query(`CREATE TABLE IF NOT EXISTS ${ledger} (
        transfer text NOT NULL, account text NOT NULL, amount bigint NOT NULL, at timestamptz NOT NULL,
        PRIMARY KEY (transfer, account))`);
    },
    // One transaction per batch: these writes and the checkpoint commit together.
    async handle(batch, tx) {
      for (const event of batch.events) {
        const data = event.data as { balance?: number; amount?: number; transfer?: string };
        const change = event.type === 'Opened' ? data.balance! : event.type === 'Deposited' ? data.amount! : -data.amount!;
        await tx.query(
          `INSERT INTO ${balances} (account, balance) VALUES ($1, $2)
           ON CONFLICT (account) DO UPDATE SET balance = ${balances}.balance + EXCLUDED.balance`,
          [event.streamId, change],
        );
        if (data.transfer) await tx.query(`INSERT INTO ${ledger} VALUES ($1, $2, $3, $4)`, [data.transfer, event.streamId, change, event.timestamp]);
      }
    },
  });
}

export function keepBankReadModel(store: KafkaEventStore, pool: Pool, schema?: string): Promise<ProjectionRunner> {
  // Start it in as many processes as you like: they share the partitions, one runner each.
  return ProjectionRunner.start({
    store,
    pool,
    projection: bankReadModel(schema),
    ...(schema === undefined ? {} : { schema }), // Scribe's checkpoint tables beside the read model
    maxBatchEvents: 500, // a batch is applied when it holds 500 events
    maxBatchWaitMs: 100, // or 100 ms after its first event was read
    onError: { maxAttempts: 3, backoff: { initialMs: 100, maxMs: 5_000 }, then: 'park' },
  });
}
