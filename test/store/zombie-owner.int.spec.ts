// I5: at most one process can make a write visible on a partition at a time. An owner is
// frozen (SIGSTOP) while one of its transactions is open, past its session timeout; another
// process takes its partitions and writes; the frozen one is resumed (SIGCONT). Nothing the
// zombie had in flight becomes visible after the takeover, and its callers get errors.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { KafkaAdmin, KafkaConsumer } from '../../src/kafka/index.js';
import { hasOpenTransaction, readEventsTopic } from '../support/log-check.js';
import { WriterProcess } from '../support/writer-processes.js';

const brokers = inject('brokers');
const partitions = 2;
const sessionTimeoutMs = 6_000; // the broker's group.min.session.timeout.ms

/** Each event's writer pid (from its data) and offset, per partition, in offset order. */
async function writersByOffset(topic: string): Promise<Map<number, { by: number; offset: number; id: string }[]>> {
  const admin = KafkaAdmin.connect({ brokers });
  const ends = await admin.endOffsets(topic, [...Array(partitions).keys()], 'read_committed');
  admin.disconnect();
  const consumer = await KafkaConsumer.connect({ brokers });
  consumer.assign([...Array(partitions).keys()].map((partition) => ({ topic, partition, offset: 0 })));
  const out = new Map<number, { by: number; offset: number; id: string }[]>();
  const done = () => consumer.client.position([...Array(partitions).keys()].map((partition) => ({ topic, partition }))).every((p) => (ends.get(p.partition) ?? 0) === 0 || p.offset >= (ends.get(p.partition) ?? 0));
  while (!done()) {
    for (const m of await consumer.consume(1000, 100)) {
      const id = m.headers!.find((h) => h['scribe.id'] !== undefined)!['scribe.id']!.toString();
      const list = out.get(m.partition) ?? [];
      list.push({ by: (JSON.parse(m.value!.toString()) as { by: number }).by, offset: m.offset, id });
      out.set(m.partition, list);
    }
  }
  await consumer.disconnect();
  return out;
}

describe('I5: a paused owner is fenced', () => {
  const writers: WriterProcess[] = [];
  afterAll(async () => {
    for (const w of writers) w.kill('SIGCONT');
    await Promise.all(writers.map((w) => w.close()));
  });

  for (const round of [1, 2]) {
    it(`I5: none of a frozen owner's in-flight appends becomes visible after another process took over (round ${round})`, async () => {
      const store = `zombie-${randomUUID().slice(0, 8)}`;
      const topic = `${store}.events`;
      const streams = Array.from({ length: 8 }, (_, i) => `z-${i}`);
      const options = { brokers, store, partitions, sessionTimeoutMs, transactionTimeoutMs: 20_000, appendTimeoutMs: 20_000 };
      const zombie = await WriterProcess.start({ ...options, dataDir: `.scribe/test/${store}/zombie` });
      writers.push(zombie);
      while ((await zombie.owned()).length < partitions) await new Promise((r) => setTimeout(r, 100));
      zombie.send({ cmd: 'race', streams, appenders: 8, appends: 1_000_000, retry: false });
      await new Promise((r) => setTimeout(r, 1_500));

      // Freeze it at a moment when one of its transactions is open.
      const admin = KafkaAdmin.connect({ brokers });
      let frozen = false;
      for (let tries = 0; tries < 200 && !frozen; tries++) {
        zombie.kill('SIGSTOP');
        if (await hasOpenTransaction(admin, topic, partitions)) frozen = true;
        else {
          zombie.kill('SIGCONT');
          await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
        }
      }
      admin.disconnect();
      expect(frozen, 'the owner was frozen while a transaction was open').toBe(true);
      await new Promise((r) => setTimeout(r, 200)); // reports already in the pipe arrive
      const answered = new Set(zombie.reports.flatMap((r) => (r.type === 'ack' || r.type === 'failed' ? [r.id] : [])));
      const inFlight = zombie.reports.flatMap((r) => (r.type === 'attempt' && !answered.has(r.id) ? [r.id] : []));
      expect(inFlight.length).toBeGreaterThan(0);

      // A second process takes over once the zombie's session has expired.
      const successor = await WriterProcess.start({ ...options, dataDir: `.scribe/test/${store}/successor` });
      writers.push(successor);
      const takeoverStarted = Date.now();
      while ((await successor.owned()).length < partitions) await new Promise((r) => setTimeout(r, 100));
      const takeoverMs = Date.now() - takeoverStarted;
      // Every stream moves on, so an append the zombie retries after it wakes conflicts.
      for (const stream of streams) {
        const written = await successor.append(stream, [randomUUID()], 'any');
        expect(written).toMatchObject({ ok: true });
      }

      zombie.kill('SIGCONT');
      // Every in-flight append of the zombie ends, one way or the other.
      const deadline = Date.now() + 60_000;
      const settled = () => inFlight.every((id) => zombie.reports.some((r) => (r.type === 'ack' || r.type === 'failed') && r.id === id));
      while (!settled() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(settled(), 'every append in flight at the freeze has ended').toBe(true);
      zombie.kill('SIGKILL');

      const log = await readEventsTopic(brokers, topic);
      expect(log.violations).toEqual([]);
      for (const id of inFlight) {
        const ackedLater = zombie.reports.some((r) => r.type === 'ack' && r.id === id);
        // Acknowledged: it committed before the freeze; failed: it is nowhere.
        expect(log.idCounts.get(id) ?? 0).toBe(ackedLater ? 1 : 0);
      }
      for (const r of successor.reports) if (r.type === 'ack') expect(log.idCounts.get(r.id)).toBe(1);
      // What the zombie had in flight and was acknowledged committed before the takeover:
      // it precedes the successor's first write in its partition. (The zombie's appenders go
      // on after the resume; those new appends reach the successor and are legitimately stored.)
      const inFlightIds = new Set(inFlight);
      for (const [, events] of await writersByOffset(topic)) {
        const firstOfSuccessor = events.findIndex((e) => e.by === successor.pid);
        if (firstOfSuccessor < 0) continue;
        expect(events.slice(firstOfSuccessor).filter((e) => inFlightIds.has(e.id))).toEqual([]);
      }
      console.log(`round ${round}: ${inFlight.length} appends in flight at the freeze; takeover in ${takeoverMs} ms`);
    }, 240_000);
  }
});
