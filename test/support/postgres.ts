// PostgreSQL for tests: each test gets its own schema (dropped afterwards) in the database
// that DATABASE_URL or PG* name (default 127.0.0.1:5432, user postgres); an unreachable
// server fails the test with PostgresUnavailableError saying where it looked.
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { expect } from 'vitest';
import { openPool } from '../../src/projections/index.js';
import { readEventsTopic } from './log-check.js';

export { countingProjection } from './counting-projection.js';

export interface TestSchema {
  readonly pool: Pool;
  readonly schema: string;
  drop(): Promise<void>;
}

export async function testSchema(prefix = 't'): Promise<TestSchema> {
  const pool = await openPool();
  const schema = `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await pool.query(`CREATE SCHEMA "${schema}"`);
  return {
    pool,
    schema,
    async drop() {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await pool.end();
    },
  };
}

/** Counts of the read model, for waiting on it. */
export async function appliedCount(pool: Pool, schema: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".applied`);
  return Number(rows[0]!.n);
}

/**
 * The read model equals a fold of the log, read by a plain Kafka consumer: every event
 * applied exactly once, each stream's count and last version those of its history.
 */
export async function expectFoldOfTheLog(pool: Pool, schema: string, brokers: string[], topic: string, except: ReadonlySet<string> = new Set()): Promise<void> {
  const log = await readEventsTopic(brokers, topic);
  expect(log.violations).toEqual([]);
  const applied = await pool.query<{ event_id: string; n: string }>(`SELECT event_id, count(*) AS n FROM "${schema}".applied GROUP BY event_id`);
  const twice = applied.rows.filter((r) => Number(r.n) !== 1).map((r) => r.event_id);
  expect(twice, 'events applied more than once').toEqual([]);
  const ids = new Set(applied.rows.map((r) => r.event_id));
  const logIds = [...log.streams.values()].flatMap((h) => h.ids).filter((id) => !except.has(id));
  expect(logIds.filter((id) => !ids.has(id)), 'events of the log not applied').toEqual([]);
  expect(ids.size, 'events applied that the log does not hold').toBe(logIds.length);
  // Each stream's events were applied in version order (across partitions, when growth moved it).
  const order = await pool.query<{ stream_id: string; versions: number[] }>(`SELECT stream_id, array_agg(version ORDER BY seq) AS versions FROM "${schema}".applied GROUP BY stream_id`);
  for (const row of order.rows) expect(row.versions, `order of ${row.stream_id}`).toEqual([...row.versions].sort((a, b) => a - b));
  const totals = await pool.query<{ stream_id: string; events: number; last_version: number }>(`SELECT * FROM "${schema}".totals`);
  const byStream = new Map(totals.rows.map((r) => [r.stream_id, r]));
  for (const [streamId, history] of log.streams) {
    const expected = history.ids.filter((id) => !except.has(id)).length;
    if (expected === 0) continue;
    expect(byStream.get(streamId)?.events, `events counted for ${streamId}`).toBe(expected);
  }
}
