// `scribe projections status | parked | replay | rebuild` against a projection running in this
// process, and the refusal when PostgreSQL is unreachable.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { EventStore, type KafkaEventStore } from '../../src/index.js';
import { parkedEvents, ProjectionRunner } from '../../src/projections/index.js';
import { appliedCount, countingProjection, testSchema, type TestSchema } from '../support/postgres.js';

const brokers = inject('brokers');
const run = promisify(execFile);

async function scribe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', ['bin/scribe.js', ...args], { timeout: 120_000, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

async function until(condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await condition()); ) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('scribe projections', () => {
  const name = `cli-proj-${randomUUID().slice(0, 8)}`;
  let store: KafkaEventStore | undefined;
  let runner: ProjectionRunner | undefined;
  let pg: TestSchema | undefined;
  afterAll(async () => {
    await runner?.stop();
    await store?.close();
    await pg?.drop();
  });

  it('shows status with lag per partition, lists a parked event, replays it and rebuilds', async () => {
    store = await EventStore.connect({ brokers, store: name, partitions: 2, dataDir: `.scribe/test/${name}` });
    pg = await testSchema();
    for (let i = 0; i < 10; i++) await store.append(`acct-${i}`, [{ type: 'Counted', data: { i } }], { expectedVersion: 'any' });
    await store.append('acct-poison', [{ type: 'Counted', data: { poison: true } }], { expectedVersion: 'any' });
    runner = await ProjectionRunner.start({ store, pool: pg.pool, projection: countingProjection(pg.schema), schema: pg.schema, onError: { maxAttempts: 1 }, pollIntervalMs: 100 });
    await until(async () => (await appliedCount(pg!.pool, pg!.schema)) === 10 && (await parkedEvents(pg!.pool, 'counting', { schema: pg!.schema })).length === 1);

    const status = await scribe(['projections', 'status', '--store', name, '--brokers', brokers.join(','), '--schema', pg.schema]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('projection counting: live; rebuilds: 0; parked events: 1');
    expect(status.stdout).toMatch(/^\s+0\s+\d+\s+\d+\s+0\s+0\.0\s+\S+\/\d+\//m);
    expect(status.stdout).toMatch(/^\s+1\s+\d+\s+\d+\s+0\s+0\.0\s+\S+\/\d+\//m);

    const parked = await scribe(['projections', 'parked', 'counting', '--schema', pg.schema]);
    expect(parked.code, parked.stderr).toBe(0);
    expect(parked.stdout).toMatch(/acct-poison@0\tCounted\tattempts 1\tpoison event/);

    await pg.pool.query(`INSERT INTO "${pg.schema}".cured SELECT event_id FROM "${pg.schema}".parked_events`);
    const replay = await scribe(['projections', 'replay', 'counting', '--schema', pg.schema]);
    expect(replay.stdout).toContain('1 parked event(s) marked for replay');
    await until(async () => (await appliedCount(pg!.pool, pg!.schema)) === 11);

    const rebuild = await scribe(['projections', 'rebuild', 'counting', '--schema', pg.schema]);
    expect(rebuild.code, rebuild.stderr).toBe(0);
    await until(async () => (await appliedCount(pg!.pool, pg!.schema)) === 11);
    const after = await scribe(['projections', 'status', 'counting', '--store', name, '--brokers', brokers.join(','), '--schema', pg.schema]);
    expect(after.stdout).toContain('projection counting: live; rebuilds: 1; parked events: 0');
  });

  it('names the projection that does not exist, and says where PostgreSQL was looked for when it is unreachable', async () => {
    const missing = await scribe(['projections', 'rebuild', 'nothing-here', '--schema', pg!.schema]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no projection "nothing-here" .*\(PROJECTION_NOT_FOUND\)/);
    const unreachable = await scribe(['projections', 'parked', 'counting'], { PGHOST: '127.0.0.1', PGPORT: '1', DATABASE_URL: '' });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^scribe: PostgreSQL at 127\.0\.0\.1:1\/postgres as postgres is unreachable .*\(POSTGRES_UNAVAILABLE\)\n$/);
    const badSchema = await scribe(['projections', 'parked', 'counting', '--schema', 'no good']);
    expect(badSchema.stderr).toMatch(/--schema: .*\(INVALID_ARGUMENT\)/);
  });
});
