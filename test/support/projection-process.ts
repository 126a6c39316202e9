// A projection runner in its own OS process, driven by a test over IPC: it runs the counting
// projection of test/support/postgres.ts; tests kill it, freeze it, or have it freeze itself
// in the middle of a batch (its writes done, its checkpoint not yet committed).
import type { Pool } from 'pg';
import { EventStore, type KafkaEventStore } from '../../src/index.js';
import { openPool, projection, ProjectionRunner } from '../../src/projections/index.js';
import { countingProjection } from './counting-projection.js';

export interface RunnerSettings {
  readonly brokers: string[];
  readonly store: string;
  readonly schema: string;
  readonly dataDir: string;
  readonly maxBatchEvents?: number;
  readonly sessionTimeoutMs?: number;
  readonly transactionIdleTimeoutMs?: number;
  /** Each batch sleeps up to this long inside its transaction (widens the window a kill lands in). */
  readonly slowMs?: number;
}

export type RunnerCommand = { cmd: 'start'; settings: RunnerSettings } | { cmd: 'freeze-mid-batch' } | { cmd: 'partitions'; ref: number } | { cmd: 'stop' };

export type RunnerReport =
  | { type: 'started' }
  | { type: 'batch'; events: number; partitions: number[] }
  | { type: 'freezing'; events: string[] }
  | { type: 'partitions'; ref: number; partitions: number[] }
  | { type: 'log'; line: string }
  | { type: 'stopped' }
  | { type: 'error'; message: string };

const send = (report: RunnerReport, then: () => void = () => undefined) => process.send?.(report, undefined, undefined, then);
let store: KafkaEventStore | undefined;
let pool: Pool | undefined;
let runner: ProjectionRunner | undefined;
let freeze = false;

async function start(settings: RunnerSettings): Promise<void> {
  store = await EventStore.connect({ brokers: settings.brokers, store: settings.store, writer: false, dataDir: settings.dataDir });
  pool = await openPool();
  const counting = countingProjection(settings.schema);
  const wrapped = projection({
    name: counting.name,
    tables: counting.tables,
    ...(counting.init ? { init: counting.init } : {}),
    async handle(batch, tx) {
      await counting.handle(batch, tx);
      if (settings.slowMs) await new Promise((r) => setTimeout(r, Math.random() * settings.slowMs!));
      if (freeze && batch.events.length > 0) {
        freeze = false;
        // The batch's writes are in its open transaction; the checkpoint is not moved yet.
        await new Promise<void>((resolve) => send({ type: 'freezing', events: batch.events.map((e) => e.id) }, () => resolve()));
        process.kill(process.pid, 'SIGSTOP');
      }
      send({ type: 'batch', events: batch.events.length, partitions: batch.checkpoint.map((p) => p.partition) });
    },
  });
  runner = await ProjectionRunner.start({
    store,
    pool,
    projection: wrapped,
    schema: settings.schema,
    ...(settings.maxBatchEvents ? { maxBatchEvents: settings.maxBatchEvents } : {}),
    ...(settings.sessionTimeoutMs ? { sessionTimeoutMs: settings.sessionTimeoutMs } : {}),
    ...(settings.transactionIdleTimeoutMs ? { transactionIdleTimeoutMs: settings.transactionIdleTimeoutMs } : {}),
    log: (line) => send({ type: 'log', line }),
  });
  void runner.done.catch((error: unknown) => send({ type: 'error', message: String(error) }));
  send({ type: 'started' });
}

process.on('message', (command: RunnerCommand) => {
  void (async () => {
    try {
      switch (command.cmd) {
        case 'start':
          await start(command.settings);
          break;
        case 'freeze-mid-batch':
          freeze = true;
          break;
        case 'partitions':
          send({ type: 'partitions', ref: command.ref, partitions: runner?.partitions ?? [] });
          break;
        case 'stop':
          await runner?.stop().catch(() => undefined);
          await store?.close();
          await pool?.end();
          send({ type: 'stopped' }, () => process.exit(0));
          break;
      }
    } catch (error) {
      send({ type: 'error', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    }
  })();
});
