// A projection runs on the in-memory store of `scribe/testing` as on Kafka, with the real
// PostgreSQL: `store.project(projection, options)` applies each event exactly once, resumes
// at its checkpoint, honours `from` while it has none, and replays parked events in their
// original order (by partition, then position). No broker: a user's unit test of a projection.
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryEventStore } from '../../src/testing/index.js';
import { parkedEvents, ProjectionRunner, replayParked } from '../../src/projections/index.js';
import { appliedCount, countingProjection, testSchema, type TestSchema } from '../support/postgres.js';

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Stream ids that land in `partition` of the store. */
function streamsIn(store: InMemoryEventStore, partition: number, count: number, prefix: string): string[] {
  const ids: string[] = [];
  for (let i = 0; ids.length < count; i++) if (store.partitionOf(`${prefix}-${i}`) === partition) ids.push(`${prefix}-${i}`);
  return ids;
}

describe('projections on the in-memory store', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  });

  async function setUp(partitions = 3): Promise<{ store: InMemoryEventStore; pg: TestSchema }> {
    const store = new InMemoryEventStore({ partitions });
    const pg = await testSchema();
    cleanup.push(() => pg.drop(), () => store.close());
    return { store, pg };
  }

  async function appendMany(store: InMemoryEventStore, from: number, count: number, data: (i: number) => object = (i) => ({ i })): Promise<void> {
    for (let i = from; i < from + count; i++) await store.append(`acct-${i % 7}`, [{ type: 'Counted', data: data(i) }], { expectedVersion: 'any' });
  }

  /** What the read model holds, against the store's own history. */
  async function expectFoldOf(store: InMemoryEventStore, pg: TestSchema, count: number): Promise<void> {
    const { rows } = await pg.pool.query<{ event_id: string; n: string }>(`SELECT event_id, count(*) AS n FROM "${pg.schema}".applied GROUP BY event_id`);
    expect(rows.filter((r) => r.n !== '1')).toEqual([]);
    expect(rows).toHaveLength(count);
    const totals = await pg.pool.query<{ stream_id: string; events: number; last_version: number }>(`SELECT * FROM "${pg.schema}".totals ORDER BY stream_id`);
    for (const row of totals.rows) {
      const history = [];
      for await (const event of store.readStream(row.stream_id)) history.push(event);
      expect({ stream: row.stream_id, events: row.events, last: row.last_version }).toEqual({ stream: row.stream_id, events: history.length, last: history.length - 1 });
    }
  }

  it('store.project applies every event once and returns a running handle (stop, status); a new run resumes at the checkpoint', async () => {
    const { store, pg } = await setUp();
    await appendMany(store, 0, 40);
    const counting = countingProjection(pg.schema);
    const running = await store.project(counting, { pool: pg.pool, schema: pg.schema, maxBatchEvents: 6 });
    cleanup.push(() => running.stop());
    expect(running).toBeInstanceOf(ProjectionRunner);
    expect(running.name).toBe('counting');
    await until(async () => (await appliedCount(pg.pool, pg.schema)) === 40);
    const status = await running.status();
    expect(status).toMatchObject({ name: 'counting', store: store.name, state: 'live', parked: 0 });
    expect(status.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    expect(running.partitions).toEqual([0, 1, 2]);
    await running.stop();

    await appendMany(store, 40, 15);
    const again = await store.project(counting, { pool: pg.pool, schema: pg.schema });
    cleanup.push(() => again.stop());
    await until(async () => (await appliedCount(pg.pool, pg.schema)) >= 55);
    await new Promise((r) => setTimeout(r, 200));
    await again.stop();
    await expectFoldOf(store, pg, 55);

    // Its checkpoints are offsets in this store's log: a new in-memory store cannot take them over.
    const other = new InMemoryEventStore({ partitions: 3 });
    cleanup.push(() => other.close());
    const refused = await other.project(counting, { pool: pg.pool, schema: pg.schema }).then(() => undefined, (e: unknown) => e);
    expect(refused).toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'options.projection' });
    const notAProjection = await store.project({ name: 'x' } as never, {}).then(() => undefined, (e: unknown) => e);
    expect(notAProjection).toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'projection' });
  });

  it("starts at `from` while the projection has no checkpoint: 'end' applies only what is appended after it started", async () => {
    const { store, pg } = await setUp(2);
    await appendMany(store, 0, 10);
    const running = await store.project(countingProjection(pg.schema), { pool: pg.pool, schema: pg.schema, from: 'end' });
    cleanup.push(() => running.stop());
    await appendMany(store, 10, 5);
    await until(async () => (await appliedCount(pg.pool, pg.schema)) === 5);
    await new Promise((r) => setTimeout(r, 200));
    const { rows } = await pg.pool.query<{ i: number }>(`SELECT (data->>'i')::int AS i FROM "${pg.schema}".applied ORDER BY 1`);
    expect(rows.map((r) => r.i)).toEqual([10, 11, 12, 13, 14]);
  });

  it('replays parked events in their original order, by partition then position, whatever order they were parked in', async () => {
    const { store, pg } = await setUp(2);
    const [late] = streamsIn(store, 1, 1, 'late');
    const [early] = streamsIn(store, 0, 1, 'early');
    const poison = (stream: string) => store.append(stream!, [{ type: 'Counted', data: { poison: true } }], { expectedVersion: 'any' });
    const counting = countingProjection(pg.schema);
    const options = { pool: pg.pool, schema: pg.schema, onError: { maxAttempts: 1 }, pollIntervalMs: 50 };
    const running = await store.project(counting, options);
    cleanup.push(() => running.stop());

    // Parked first: two events of a stream in partition 1; then two of a stream in partition 0.
    await poison(late!);
    await poison(late!);
    await until(async () => (await parkedEvents(pg.pool, 'counting', { schema: pg.schema })).length === 2);
    await poison(early!);
    await poison(early!);
    await appendMany(store, 0, 6);
    await until(async () => (await parkedEvents(pg.pool, 'counting', { schema: pg.schema })).length === 4 && (await appliedCount(pg.pool, pg.schema)) === 6);
    const parked = await parkedEvents(pg.pool, 'counting', { schema: pg.schema });
    expect(parked.map((p) => p.streamId)).toEqual([late, late, early, early]);

    await pg.pool.query(`INSERT INTO "${pg.schema}".cured SELECT unnest($1::text[])`, [parked.map((p) => p.eventId)]);
    expect(await replayParked(pg.pool, 'counting', undefined, { schema: pg.schema })).toBe(4);
    await until(async () => (await parkedEvents(pg.pool, 'counting', { schema: pg.schema })).length === 0);
    const { rows } = await pg.pool.query<{ event_id: string }>(`SELECT event_id FROM "${pg.schema}".applied WHERE event_id = ANY($1) ORDER BY seq`, [parked.map((p) => p.eventId)]);
    const original = [...parked].sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
    expect(original.map((p) => p.streamId)).toEqual([early, early, late, late]);
    expect(rows.map((r) => r.event_id)).toEqual(original.map((p) => p.eventId));
    await expectFoldOf(store, pg, 10);
  });

  it('a parked event that fails again keeps the later parked events of its stream parked, saying why', async () => {
    const { store, pg } = await setUp(1);
    const counting = countingProjection(pg.schema);
    const running = await store.project(counting, { pool: pg.pool, schema: pg.schema, onError: { maxAttempts: 1 }, pollIntervalMs: 50 });
    cleanup.push(() => running.stop());
    for (let i = 0; i < 3; i++) await store.append('acct-x', [{ type: 'Counted', data: { poison: true } }], { expectedVersion: 'any' });
    await until(async () => (await parkedEvents(pg.pool, 'counting', { schema: pg.schema })).length === 3);
    const [first, second, third] = await parkedEvents(pg.pool, 'counting', { schema: pg.schema });
    // The second and third are cured, the first is not: neither may overtake it.
    await pg.pool.query(`INSERT INTO "${pg.schema}".cured VALUES ($1), ($2)`, [second!.eventId, third!.eventId]);
    await replayParked(pg.pool, 'counting', undefined, { schema: pg.schema });
    await until(async () => (await parkedEvents(pg.pool, 'counting', { schema: pg.schema })).every((p) => !p.replayRequested));
    const after = await parkedEvents(pg.pool, 'counting', { schema: pg.schema });
    expect(after.map((p) => p.id)).toEqual([first!.id, second!.id, third!.id]);
    expect(after[0]!.attempts).toBe(2);
    expect(after[1]!.error).toMatch(new RegExp(`earlier parked event ${first!.id} of its stream failed again`));
    expect(await appliedCount(pg.pool, pg.schema)).toBe(0);
  });
});
