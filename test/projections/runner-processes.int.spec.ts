// Projections whose runners die or freeze, each runner in its own OS process. Under SIGKILL
// at random points during batches every event is applied exactly once. A runner frozen
// (SIGSTOP) in the middle of a batch loses its partitions to another; resumed (SIGCONT), it
// cannot commit that old batch after the new holder's: the epoch its claim took has moved
// on, or the server ended its idle transaction. The read model always ends equal to a fold
// of the log read by a plain Kafka consumer.
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { EventStore } from '../../src/index.js';
import { readEventsTopic } from '../support/log-check.js';
import { appliedCount, expectFoldOfTheLog, testSchema, type TestSchema } from '../support/postgres.js';
import { RunnerProcess } from '../support/projection-processes.js';
import type { RunnerSettings } from '../support/projection-process.js';

const brokers = inject('brokers');
const sessionTimeoutMs = 6_000; // the broker's group.min.session.timeout.ms

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopped(pid: number): Promise<boolean> {
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('T')) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return false;
}

describe('projection runners that die or freeze', () => {
  const runners: RunnerProcess[] = [];
  const open: { close(): Promise<void> }[] = [];
  const pgSchemas: TestSchema[] = [];
  afterEach(async () => {
    for (const r of runners) if (r.alive) r.kill('SIGCONT');
    await Promise.all(runners.splice(0).map((r) => r.stop()));
  });
  afterAll(async () => {
    await Promise.all(open.map((o) => o.close()));
    await Promise.all(pgSchemas.map((s) => s.drop()));
  });

  async function setUp(partitions: number) {
    const name = `projrun-${randomUUID().slice(0, 8)}`;
    const store = await EventStore.connect({ brokers, store: name, partitions, sessionTimeoutMs, dataDir: `.scribe/test/${name}/test` });
    open.push(store);
    const pg = await testSchema();
    pgSchemas.push(pg);
    let n = 0;
    const settings = (extra: Partial<RunnerSettings> = {}): RunnerSettings => ({ brokers, store: name, schema: pg.schema, dataDir: `.scribe/test/${name}/r${n++}`, sessionTimeoutMs, ...extra });
    const append = async (count: number, streams = 12) => {
      for (let i = 0; i < count; i++) await store.append(`acct-${Math.floor(Math.random() * streams)}`, [{ type: 'Counted', data: { i } }], { expectedVersion: 'any' });
    };
    return { store, pg, topic: `${name}.events`, settings, append };
  }

  it('applies every event exactly once when runners are SIGKILLed at random points during batches', async () => {
    const { pg, topic, settings, append } = await setUp(3);
    await append(100);
    let appending = true;
    const appends = (async () => {
      while (appending) await append(5);
    })();
    const kills: number[] = [];
    for (let round = 0; round < 5; round++) {
      const runner = await RunnerProcess.start(settings({ maxBatchEvents: 15, slowMs: 40 }));
      runners.push(runner);
      await runner.next((r) => r.type === 'batch' && r.events > 0);
      const delay = Math.floor(Math.random() * 1_500);
      kills.push(delay);
      await new Promise((r) => setTimeout(r, delay));
      runner.kill('SIGKILL');
      await runner.exited;
    }
    appending = false;
    await appends;
    const total = (await readEventsTopic(brokers, topic)).totalEvents;
    const last = await RunnerProcess.start(settings());
    runners.push(last);
    await until(async () => (await appliedCount(pg.pool, pg.schema)) >= total);
    await last.stop();
    await expectFoldOfTheLog(pg.pool, pg.schema, brokers, topic);
    expect(kills).toHaveLength(5);
  });

  for (const variant of [
    { idleTimeoutMs: 120_000, case: 'its claim was taken over (the epoch moved on)' },
    { idleTimeoutMs: 3_000, case: 'the server ended its idle transaction' },
  ]) {
    it(`a runner frozen mid-batch and resumed cannot commit its old batch after the new holder's: ${variant.case}`, async () => {
      const { pg, topic, settings, append } = await setUp(2);
      await append(60);
      const zombie = await RunnerProcess.start(settings({ transactionIdleTimeoutMs: variant.idleTimeoutMs }));
      runners.push(zombie);
      await until(async () => (await appliedCount(pg.pool, pg.schema)) === 60);
      const heir = await RunnerProcess.start(settings({ transactionIdleTimeoutMs: variant.idleTimeoutMs }));
      runners.push(heir);
      await until(async () => (await zombie.partitions()).length === 1 && (await heir.partitions()).length === 1);

      const freezing = zombie.next((r) => r.type === 'freezing');
      zombie.send({ cmd: 'freeze-mid-batch' });
      await append(40);
      const frozenBatch = ((await freezing) as { events: string[] }).events;
      expect(await stopped(zombie.pid), 'the runner stopped itself in a batch').toBe(true);

      // The heir takes the frozen runner's partition over once the group gives up on it.
      const owners = async () => (await pg.pool.query<{ owner: string }>(`SELECT owner FROM "${pg.schema}".projection_checkpoints`)).rows.map((r) => r.owner);
      await until(async () => (await owners()).every((o) => o.includes(`/${heir.pid}/`)));
      await append(20);
      if (variant.idleTimeoutMs < 10_000) {
        // The server ends the frozen transaction: the heir applies the frozen batch's events meanwhile.
        await until(async () => (await appliedCount(pg.pool, pg.schema)) === 120);
      }
      zombie.kill('SIGCONT');
      const refused = await zombie.next((r) => r.type === 'log' && /not committed/.test(r.line));
      expect((refused as { line: string }).line).toMatch(variant.idleTimeoutMs < 10_000 ? /PostgreSQL failed|terminat|Connection/i : /claimed by another runner/);
      await append(20);
      await until(async () => (await appliedCount(pg.pool, pg.schema)) === 140);
      await Promise.all([zombie.stop(), heir.stop()]);
      await expectFoldOfTheLog(pg.pool, pg.schema, brokers, topic);
      const applied = await pg.pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${pg.schema}".applied WHERE event_id = ANY($1)`, [frozenBatch]);
      expect(Number(applied.rows[0]!.n)).toBe(frozenBatch.length);
    });
  }
});
