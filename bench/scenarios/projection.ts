// projection: events/s a ProjectionRunner applies into a simple upsert read model in
// PostgreSQL, against a hand-written loop doing the same work (a raw read_committed consumer,
// the same batching by count and time, one PostgreSQL transaction per batch with the same
// upsert, no checkpoint). Target (issue 19): the runner at >= 0.8 of the loop. The events are
// written beforehand in Scribe's record format by raw transactional producers (the owner's
// transactional.id), so both readers start from a full log.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import type { Pool, PoolClient } from 'pg';
import { EventStore } from '../../src/index.js';
import { KafkaConsumer } from '../../src/kafka/index.js';
import { headerValue, headers } from '../../src/records/event-record.js';
import { ensureTopics } from '../../src/store/topics.js';
import { KafkaAdmin } from '../../src/kafka/index.js';
import { openPool, projection, ProjectionRunner } from '../../src/projections/index.js';
import { positiveInteger, type BenchContext, type RepetitionResult, type Scenario } from '../scenario.js';
import { round } from '../stats.js';
import { benchDataDir, deleteStoreTopics, randomSuffix } from '../store-fixture.js';
import { fill, streamsInPartition } from './read-stream.js';

export interface ProjectionOptions {
  readonly events: number;
  readonly partitions: number;
  readonly streams: number;
  readonly batch: number;
  readonly batchWaitMs: number;
  readonly eventSize: number;
  readonly caseTimeoutMs: number;
}

/** The read model both readers keep: events per stream, one upsert per stream per batch. */
async function upsert(tx: PoolClient, schema: string, streamIds: readonly string[]): Promise<void> {
  if (streamIds.length === 0) return;
  await tx.query(
    `INSERT INTO "${schema}".totals AS t (stream_id, events) SELECT s, count(*) FROM unnest($1::text[]) AS s GROUP BY s
     ON CONFLICT (stream_id) DO UPDATE SET events = t.events + EXCLUDED.events`,
    [streamIds],
  );
}

async function applied(pool: Pool, schema: string): Promise<number> {
  const { rows } = await pool.query<{ n: string | null }>(`SELECT sum(events) AS n FROM "${schema}".totals`);
  return Number(rows[0]?.n ?? 0);
}

async function freshSchema(pool: Pool): Promise<string> {
  const schema = `bench_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  await pool.query(`CREATE SCHEMA "${schema}"`);
  await pool.query(`CREATE TABLE "${schema}".totals (stream_id text PRIMARY KEY, events bigint NOT NULL)`);
  return schema;
}

/** Waits until the read model holds every event; returns the elapsed time from `began`. */
async function allApplied(pool: Pool, schema: string, events: number, began: number, timeoutMs: number): Promise<number> {
  for (;;) {
    if ((await applied(pool, schema)) >= events) return performance.now() - began;
    if (performance.now() - began > timeoutMs) throw new Error(`not all ${events} events applied within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Elapsed times of a case: to the last event applied, and from the first batch applied (the start-up excluded). */
interface CaseTimes {
  readonly totalMs: number;
  readonly steadyMs: number;
  /** Events of the first batch: the steady rate counts the others. */
  readonly firstBatch: number;
}

async function scribeRunner(brokers: string[], store: string, pool: Pool, o: ProjectionOptions): Promise<CaseTimes> {
  const schema = await freshSchema(pool);
  const dataDir = benchDataDir();
  const events = await EventStore.connect({ brokers, store, writer: false, dataDir });
  try {
    // The store's stream index caught up before the clock starts, as its connection is: it is
    // the store's start-up work (a process with a kept dataDir has it already), and the hand
    // loop has none. Reading a stream waits until the index holds its whole partition.
    for (let partition = 0; partition < o.partitions; partition++) {
      const [streamId] = streamsInPartition(o.streams, partition, o.partitions, `s${partition}`);
      for await (const event of events.readStream(streamId!)) void event;
    }
    const began = performance.now();
    let first: { at: number; events: number } | undefined;
    const runner = await ProjectionRunner.start({
      store: events,
      pool,
      schema,
      maxBatchEvents: o.batch,
      maxBatchWaitMs: o.batchWaitMs,
      projection: projection({
        name: 'bench',
        async handle(batch, tx) {
          await upsert(tx, schema, batch.events.map((e) => e.streamId));
          first ??= { at: performance.now(), events: batch.events.length };
        },
      }),
    });
    const ms = await allApplied(pool, schema, o.events, began, o.caseTimeoutMs);
    await runner.stop();
    return { totalMs: ms, steadyMs: began + ms - first!.at, firstBatch: first!.events };
  } finally {
    await events.close();
    await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The hand-written loop: what a team would write without Scribe's runner. */
async function handLoop(brokers: string[], store: string, pool: Pool, o: ProjectionOptions): Promise<CaseTimes> {
  const schema = await freshSchema(pool);
  const topic = `${store}.events`;
  const consumer = await KafkaConsumer.connect({ brokers, isolation: 'read_committed' });
  try {
    const began = performance.now();
    consumer.assign(Array.from({ length: o.partitions }, (_, partition) => ({ topic, partition, offset: 0 })));
    let seen = 0;
    let batch: string[] = [];
    let since = 0;
    let first: { at: number; events: number } | undefined;
    const flush = async () => {
      const tx = await pool.connect();
      try {
        await tx.query('BEGIN');
        await upsert(tx, schema, batch);
        await tx.query('COMMIT');
      } finally {
        tx.release();
      }
      first ??= { at: performance.now(), events: batch.length };
      batch = [];
    };
    while (seen < o.events) {
      const wait = batch.length > 0 ? Math.max(0, since + o.batchWaitMs - performance.now()) : 200;
      for (const message of await consumer.consume(Math.min(1_000, o.batch - batch.length), wait)) {
        // The same decoding work as Scribe's reader: the event's stream and its JSON data.
        const streamId = headerValue(message.headers, headers.stream);
        if (streamId === undefined || !message.value) continue;
        JSON.parse(message.value.toString('utf8'));
        if (batch.length === 0) since = performance.now();
        batch.push(streamId);
        seen++;
      }
      if (batch.length >= o.batch || (batch.length > 0 && performance.now() - since >= o.batchWaitMs)) await flush();
    }
    if (batch.length > 0) await flush();
    const ms = await allApplied(pool, schema, o.events, began, o.caseTimeoutMs);
    return { totalMs: ms, steadyMs: began + ms - first!.at, firstBatch: first!.events };
  } finally {
    await consumer.disconnect();
    await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
  }
}

export const projectionScenario: Scenario<ProjectionOptions> = {
  name: 'projection',
  description: 'events/s a ProjectionRunner applies into an upsert read model in PostgreSQL, against a hand-written consumer loop with the same batching and upserts and no checkpoint',
  defineOptions(command: Command) {
    command
      .option('--events <n>', 'events in the log', '100000')
      .option('--partitions <n>', 'partitions of the store', '4')
      .option('--streams <n>', 'streams (read-model rows) per partition', '250')
      .option('--batch <n>', 'events per batch (both readers)', '500')
      .option('--batch-wait-ms <n>', 'a batch is applied at most this long after its first event (both readers)', '100')
      .option('--event-size <bytes>', 'event data size', '100')
      .option('--case-timeout-ms <n>', 'give up on a case after', '600000');
  },
  parseOptions(raw) {
    return {
      events: positiveInteger('events', raw.events),
      partitions: positiveInteger('partitions', raw.partitions),
      streams: positiveInteger('streams', raw.streams),
      batch: positiveInteger('batch', raw.batch),
      batchWaitMs: positiveInteger('batch-wait-ms', raw.batchWaitMs),
      eventSize: positiveInteger('event-size', raw.eventSize),
      caseTimeoutMs: positiveInteger('case-timeout-ms', raw.caseTimeoutMs),
    };
  },
  async run(o: ProjectionOptions, context: BenchContext): Promise<RepetitionResult> {
    const store = `bench-proj-${randomSuffix()}`;
    const pool = await openPool();
    const admin = KafkaAdmin.connect({ brokers: context.brokers });
    try {
      await ensureTopics(admin, store, o.partitions, 1);
      const perPartition = Math.ceil(o.events / o.partitions);
      for (let partition = 0; partition < o.partitions; partition++) {
        const count = Math.min(perPartition, o.events - partition * perPartition);
        const ids = streamsInPartition(o.streams, partition, o.partitions, `s${partition}`);
        await fill(context.brokers, store, partition, count, (k) => ({ streamId: ids[k % ids.length]!, version: Math.floor(k / ids.length) }), { eventSize: o.eventSize, fillCommitEvery: 500 });
      }
      context.log(`${o.events} events in ${o.partitions} partitions; the hand-written loop...`);
      const loop = await handLoop(context.brokers, store, pool, o);
      context.log(`the ProjectionRunner...`);
      const runner = await scribeRunner(context.brokers, store, pool, o);
      const rate = (events: number, ms: number) => (events * 1000) / Math.max(1, ms);
      const figures = {
        'runner.eventsPerSec': round(rate(o.events, runner.totalMs), 0),
        'handLoop.eventsPerSec': round(rate(o.events, loop.totalMs), 0),
        'runner.steadyEventsPerSec': round(rate(o.events - runner.firstBatch, runner.steadyMs), 0),
        'handLoop.steadyEventsPerSec': round(rate(o.events - loop.firstBatch, loop.steadyMs), 0),
      };
      return {
        figures: {
          ...figures,
          runnerToLoopRatio: round(figures['runner.eventsPerSec'] / figures['handLoop.eventsPerSec'], 3),
          steadyRunnerToLoopRatio: round(figures['runner.steadyEventsPerSec'] / figures['handLoop.steadyEventsPerSec'], 3),
        },
        details: { runner, loop },
      };
    } finally {
      await admin.disconnect();
      await deleteStoreTopics(context.brokers, store).catch(() => undefined);
      await pool.end();
    }
  },
  notes: (o) => [
    `both readers: batches of ${o.batch} events or ${o.batchWaitMs} ms, one PostgreSQL transaction per batch with one upsert statement; the runner also claims partitions and moves checkpoints in that transaction`,
    'eventsPerSec counts from the start (the runner joins a consumer group and claims its partitions, the loop assigns them directly); steadyEventsPerSec from the first batch applied',
    "the runner's store is connected and its stream index caught up before the clock starts (start-up work of the store, which the loop has none of)",
    "no Emmett case: Emmett 0.42's projector hands its projection one event at a time and stores its checkpoint after each, reading its own PostgreSQL log (not the same work; docs/decisions/0028-projections-on-any-store.md)",
  ],
};
