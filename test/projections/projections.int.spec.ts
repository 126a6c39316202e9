// PostgreSQL projections against the real broker and the real PostgreSQL: each batch's
// read-model writes and its checkpoint commit together; a restart resumes exactly there; a
// poison event is parked and replayed; the 'stop' policy stops the runner; a rebuild while
// appends go on ends equal to the log; events reach the handler upcast.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { EventSchemas, EventStore } from '../../src/index.js';
import {
  parkedEvents,
  ProjectionFailedError,
  ProjectionRunner,
  projection,
  projectionStatus,
  rebuildProjection,
  replayParked,
} from '../../src/projections/index.js';
import { readEventsTopic } from '../support/log-check.js';
import { appliedCount, countingProjection, expectFoldOfTheLog, testSchema, type TestSchema } from '../support/postgres.js';

const brokers = inject('brokers');

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('PostgreSQL projections', () => {
  const open: { close(): Promise<void> }[] = [];
  const pgSchemas: TestSchema[] = [];
  const runners: ProjectionRunner[] = [];
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.stop().catch(() => undefined)));
  });
  afterAll(async () => {
    await Promise.all(open.map((o) => o.close()));
    await Promise.all(pgSchemas.map((s) => s.drop()));
  });

  async function setUp(partitions = 3) {
    const name = `proj-${randomUUID().slice(0, 8)}`;
    const store = await EventStore.connect({ brokers, store: name, partitions, dataDir: `.scribe/test/${name}` });
    open.push(store);
    const pg = await testSchema();
    pgSchemas.push(pg);
    return { store, pg, topic: `${name}.events` };
  }

  async function appendMany(store: EventStore, from: number, count: number, streams = 8, data: (i: number) => object = (i) => ({ i })) {
    for (let i = from; i < from + count; i++) await store.append(`acct-${i % streams}`, [{ type: 'Counted', data: data(i) }], { expectedVersion: 'any' });
  }

  it('applies every event once, checkpoint and read model in one transaction; a new runner resumes at the checkpoint', async () => {
    const { store, pg, topic } = await setUp();
    await appendMany(store, 0, 60);
    const counting = countingProjection(pg.schema);
    const first = await ProjectionRunner.start({ store, pool: pg.pool, projection: counting, schema: pg.schema, maxBatchEvents: 7 });
    runners.push(first);
    await until(async () => (await appliedCount(pg.pool, pg.schema)) === 60);
    await first.stop();
    await appendMany(store, 60, 25);
    const second = await ProjectionRunner.start({ store, pool: pg.pool, projection: counting, schema: pg.schema });
    runners.push(second);
    await until(async () => (await appliedCount(pg.pool, pg.schema)) >= 85);
    await until(async () => (await projectionStatus(store, pg.pool, 'counting', { schema: pg.schema })).state === 'live');
    await expectFoldOfTheLog(pg.pool, pg.schema, brokers, topic);

    const status = await projectionStatus(store, pg.pool, 'counting', { schema: pg.schema });
    expect(status.partitions).toHaveLength(3);
    for (const partition of status.partitions) {
      expect(partition.events).toBe(0);
      expect(partition.seconds).toBe(0);
      expect(partition.owner).toMatch(new RegExp(`/${process.pid}/`));
    }

    // Its checkpoints are offsets in this store's log: another store cannot take the name over.
    const { store: other } = await setUp(1);
    const refused = await ProjectionRunner.start({ store: other, pool: pg.pool, projection: counting, schema: pg.schema }).then(() => undefined, (e: unknown) => e);
    expect(refused).toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'options.projection' });
  });

  it('store.project runs a projection on the store (the store itself needs no pg) and returns a handle with stop and status', async () => {
    const { store, pg, topic } = await setUp(2);
    await appendMany(store, 0, 30);
    const running = await store.project(countingProjection(pg.schema), { pool: pg.pool, schema: pg.schema, maxBatchEvents: 8 });
    runners.push(running);
    expect(running).toBeInstanceOf(ProjectionRunner);
    await until(async () => (await appliedCount(pg.pool, pg.schema)) === 30);
    await until(async () => (await running.status()).state === 'live');
    const status = await running.status();
    expect(status).toMatchObject({ name: 'counting', store: store.name, parked: 0 });
    expect(status.partitions.map((p) => p.events)).toEqual([0, 0]);
    expect(running.partitions).toEqual([0, 1]);
    await running.stop();
    await running.done;
    await expectFoldOfTheLog(pg.pool, pg.schema, brokers, topic);
  });

  it('parks a poison event after its attempts and goes on; a replay asked for applies it once it can be', async () => {
    const { store, pg, topic } = await setUp(2);
    await appendMany(store, 0, 20);
    const poison = await store.append('acct-poison', [{ type: 'Counted', data: { poison: true } }], { expectedVersion: 'any' });
    await appendMany(store, 20, 20);
    const lines: string[] = [];
    const runner = await ProjectionRunner.start({
      store,
      pool: pg.pool,
      projection: countingProjection(pg.schema),
      schema: pg.schema,
      onError: { maxAttempts: 2, backoff: { initialMs: 10 } },
      pollIntervalMs: 100,
      log: (line) => lines.push(line),
    });
    runners.push(runner);
    await until(async () => (await appliedCount(pg.pool, pg.schema)) === 40);
    const [parked, ...others] = await parkedEvents(pg.pool, 'counting', { schema: pg.schema });
    expect(others).toEqual([]);
    expect(parked).toMatchObject({ streamId: 'acct-poison', partition: poison.position.partition, offset: poison.position.offset, attempts: 2, replayRequested: false });
    expect(parked!.error).toMatch(/poison event/);
    expect(lines.some((l) => l.includes('parked the event'))).toBe(true);
    const poisonId = parked!.eventId;
    await expectFoldOfTheLog(pg.pool, pg.schema, brokers, topic, new Set([poisonId]));

    // Replayed while still poison: it stays parked with the attempt counted.
    expect(await replayParked(pg.pool, 'counting', undefined, { schema: pg.schema })).toBe(1);
    await until(async () => (await parkedEvents(pg.pool, 'counting', { schema: pg.schema }))[0]?.attempts === 3);
    // Cured, then replayed: applied once, no longer parked.
    await pg.pool.query(`INSERT INTO "${pg.schema}".cured VALUES ($1)`, [poisonId]);
    await replayParked(pg.pool, 'counting', [parked!.id], { schema: pg.schema });
    await until(async () => (await parkedEvents(pg.pool, 'counting', { schema: pg.schema })).length === 0);
    await expectFoldOfTheLog(pg.pool, pg.schema, brokers, topic);
  });

  it("stops with ProjectionFailedError under the 'stop' policy, nothing of the failed batch applied; status says failed", async () => {
    const { store, pg } = await setUp(1);
    await appendMany(store, 0, 5);
    await store.append('acct-poison', [{ type: 'Counted', data: { poison: true } }], { expectedVersion: 'any' });
    await appendMany(store, 5, 5);
    const runner = await ProjectionRunner.start({ store, pool: pg.pool, projection: countingProjection(pg.schema), schema: pg.schema, onError: { maxAttempts: 2, backoff: { initialMs: 10 }, then: 'stop' }, maxBatchEvents: 1 });
    runners.push(runner);
    const error = await runner.done.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ProjectionFailedError);
    expect((error as ProjectionFailedError).code).toBe('PROJECTION_FAILED');
    expect(await appliedCount(pg.pool, pg.schema)).toBe(5);
    await until(async () => (await projectionStatus(store, pg.pool, 'counting', { schema: pg.schema })).state === 'failed');
    const status = await projectionStatus(store, pg.pool, 'counting', { schema: pg.schema });
    expect(status.error).toMatch(/poison/);
    expect(status.partitions[0]!.events).toBeGreaterThanOrEqual(6);
  });

  it('a rebuild while appends go on empties the read model, replays the log and ends equal to it', async () => {
    const { store, pg, topic } = await setUp(3);
    await appendMany(store, 0, 100);
    const runner = await ProjectionRunner.start({ store, pool: pg.pool, projection: countingProjection(pg.schema), schema: pg.schema, pollIntervalMs: 200, maxBatchEvents: 20 });
    runners.push(runner);
    await until(async () => (await appliedCount(pg.pool, pg.schema)) === 100);
    let appending = true;
    const appends = (async () => {
      for (let i = 100; appending; i++) await appendMany(store, i, 1);
    })();
    await new Promise((r) => setTimeout(r, 300));
    await rebuildProjection(pg.pool, 'counting', { schema: pg.schema });
    await new Promise((r) => setTimeout(r, 1_000));
    appending = false;
    await appends;
    await until(async () => (await projectionStatus(store, pg.pool, 'counting', { schema: pg.schema })).state === 'live');
    await expectFoldOfTheLog(pg.pool, pg.schema, brokers, topic);
    expect((await projectionStatus(store, pg.pool, 'counting', { schema: pg.schema })).rebuilds).toBe(1);
  });

  it('hands the handler events upcast to the latest schema, as every read path does', async () => {
    const v1 = { type: 'object', properties: { amount: { type: 'number' } }, required: ['amount'] } as const;
    const v2 = { type: 'object', properties: { cents: { type: 'integer' } }, required: ['cents'] } as const;
    const name = `proj-up-${randomUUID().slice(0, 8)}`;
    const before = await EventStore.connect({ brokers, store: name, partitions: 1, dataDir: `.scribe/test/${name}/v1`, schemas: new EventSchemas().define('Deposited', 1, v1) });
    await before.append('acct', [{ type: 'Deposited', data: { amount: 2 } }], { expectedVersion: 'any' });
    await before.close();
    const schemas = new EventSchemas().define('Deposited', 1, v1).define('Deposited', 2, v2, { upcast: (data) => ({ cents: (data as { amount: number }).amount * 100 }) });
    const store = await EventStore.connect({ brokers, store: name, partitions: 1, dataDir: `.scribe/test/${name}/v2`, schemas });
    open.push(store);
    await store.append('acct', [{ type: 'Deposited', data: { cents: 50 } }], { expectedVersion: 'any' });
    const pg = await testSchema();
    pgSchemas.push(pg);
    const seen: unknown[] = [];
    const runner = await ProjectionRunner.start({
      store,
      pool: pg.pool,
      schema: pg.schema,
      projection: projection({
        name: 'deposits',
        handle: (batch) => {
          seen.push(...batch.events.map((e) => ({ data: e.data, schemaVersion: e.schemaVersion })));
        },
      }),
    });
    runners.push(runner);
    await until(() => seen.length >= 2);
    expect(seen).toEqual([
      { data: { cents: 200 }, schemaVersion: 2 },
      { data: { cents: 50 }, schemaVersion: 2 },
    ]);
  });
  it('follows the store across growth: a moved stream is applied in order, its old partition up to the seal before its new one', async () => {
    const { store, pg, topic } = await setUp(2);
    await appendMany(store, 0, 80, 16);
    const runner = await ProjectionRunner.start({ store, pool: pg.pool, projection: countingProjection(pg.schema), schema: pg.schema, maxBatchEvents: 10 });
    runners.push(runner);
    let appending = true;
    const appends = (async () => {
      for (let i = 80; appending; i += 4) await appendMany(store, i, 4, 16);
    })();
    await new Promise((r) => setTimeout(r, 500));
    await store.grow(4);
    await new Promise((r) => setTimeout(r, 1_500));
    appending = false;
    await appends;
    await until(async () => (await projectionStatus(store, pg.pool, 'counting', { schema: pg.schema })).state === 'live' && runner.partitions.length === 4, 90_000);
    await expectFoldOfTheLog(pg.pool, pg.schema, brokers, topic);
    const log = await readEventsTopic(brokers, topic);
    expect([...log.streams.values()].some((h) => h.partitions.length === 2), 'some stream moved').toBe(true);
  });
});
