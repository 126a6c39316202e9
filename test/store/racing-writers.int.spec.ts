// I1 and I2 under real contention: writer processes race on shared streams, each appending
// with the version it last saw and retrying on conflict. An independent read_committed
// consumer then checks every stream's history against what was acknowledged.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { expectExactlyTheAcknowledged, readEventsTopic } from '../support/log-check.js';
import { WriterProcess } from '../support/writer-processes.js';

const brokers = inject('brokers');
const processes = 3;
const appendersPerProcess = 6; // 18 concurrent appenders in all
const appends = Number(process.env.RACE_APPENDS ?? 21_000);
const streams = Array.from({ length: 50 }, (_, i) => `race-${i}`);

describe('racing writers in several processes', () => {
  const store = `race-${randomUUID().slice(0, 8)}`;
  const writers: WriterProcess[] = [];
  afterAll(async () => {
    await Promise.all(writers.map((w) => w.close()));
  });

  it('I1 + I2: every stream holds versions 0..n-1 once each, in offset order, and exactly the acknowledged events', async () => {
    for (let i = 0; i < processes; i++) {
      writers.push(await WriterProcess.start({ brokers, store, partitions: 6, dataDir: `.scribe/test/${store}/w${i}` }));
    }
    const perProcess = Math.ceil(appends / processes);
    const results = await Promise.all(
      writers.map((w) => w.request({ cmd: 'race', streams, appenders: appendersPerProcess, appends: perProcess }, (r) => r.type === 'race-done', 600_000)),
    );
    const acked = writers.flatMap((w) => w.reports.flatMap((r) => (r.type === 'ack' ? [r] : [])));
    const conflicts = results.reduce((sum, r) => sum + (r.type === 'race-done' ? r.conflicts : 0), 0);
    expect(acked.length).toBe(perProcess * processes);
    // The race was real: appenders did collide.
    expect(conflicts).toBeGreaterThan(0);

    expectExactlyTheAcknowledged(await readEventsTopic(brokers, `${store}.events`), acked);
  }, 900_000);
});
