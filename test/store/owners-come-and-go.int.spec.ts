// I6 (rebalances, owner crashes): writer processes join, leave cleanly and are killed
// (SIGKILL) while appenders in other processes keep racing; afterwards every stream's history
// is exact and holds exactly the acknowledged events.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { expectExactlyTheAcknowledged, readEventsTopic } from '../support/log-check.js';
import { WriterProcess } from '../support/writer-processes.js';

const brokers = inject('brokers');

describe('owners come and go', () => {
  const processes: WriterProcess[] = [];
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.close()));
  });

  it('I1 + I2 + I4 hold while writers join, leave and crash under racing appenders (I6)', async () => {
    const store = `churn-${randomUUID().slice(0, 8)}`;
    const base = { brokers, store, partitions: 4, sessionTimeoutMs: 6_000, transactionTimeoutMs: 10_000, appendTimeoutMs: 15_000 };
    const start = async (role: string, writer: boolean) => {
      const p = await WriterProcess.start({ ...base, writer, dataDir: `.scribe/test/${store}/${role}` });
      processes.push(p);
      return p;
    };
    let w1 = await start('w1', true);
    let w2 = await start('w2', true);
    const appenders = [await start('a1', false), await start('a2', false)];
    const streams = Array.from({ length: 30 }, (_, i) => `churn-${i}`);
    const racing = appenders.map((a) => a.request({ cmd: 'race', streams, appenders: 6, appends: 1_500 }, (r) => r.type === 'race-done', 600_000));

    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await pause(3_000);
    const w3 = await start('w3', true); // joins
    await pause(3_000);
    await w1.close(); // leaves cleanly
    await pause(3_000);
    w2.kill('SIGKILL'); // crashes with transactions in flight
    await pause(2_000);
    w1 = await start('w1-again', true); // a restarted process reuses its index directory
    await pause(3_000);
    w3.kill('SIGKILL');
    w2 = await start('w2-again', true);

    const results = await Promise.all(racing);
    const acked = appenders.flatMap((a) => a.reports.flatMap((r) => (r.type === 'ack' ? [r] : [])));
    expect(acked.length).toBe(3_000);
    const unknown = results.reduce((sum, r) => sum + (r.type === 'race-done' ? r.unknown : 0), 0);

    expectExactlyTheAcknowledged(await readEventsTopic(brokers, `${store}.events`), acked);
    console.log(`owners came and went: ${acked.length} appends acknowledged, ${unknown} retried after an unknown outcome or a retriable error`);
  }, 600_000);
});
