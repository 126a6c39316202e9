// I5: at most one process can make a write visible on a partition at a time. An owner is
// frozen (SIGSTOP) at one of its commits, past its session timeout: once mid-batch (events
// delivered, commit not asked for), once mid-commit (asked for, no answer yet). Another
// process takes its partitions and writes; the frozen one is resumed (SIGCONT). Nothing the
// zombie had in flight becomes visible after the takeover: its callers get errors, unless
// their commit reached the coordinator before the freeze. CI runs it on a plain broker and, with
// SCRIBE_TEST_KAFKA=secure, on a secured one (SASL_SSL, SCRAM-SHA-512, ACLs on).
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { KafkaAdmin, KafkaConsumer, validateKafkaSecurity, type KafkaConnection } from '../../src/kafka/index.js';
import { hasOpenTransaction, readEventsTopic } from '../support/log-check.js';
import type { FreezeMoment, Report } from '../support/writer-process.js';
import { WriterProcess } from '../support/writer-processes.js';
import { processState } from '../support/cpu.js';

const brokers = inject('brokers');
const kafka = inject('kafka');
const security = validateKafkaSecurity(kafka);
const connection: KafkaConnection = { brokers, ...(security ? { security } : {}) };
const partitions = 2;
const sessionTimeoutMs = 6_000; // the broker's group.min.session.timeout.ms

/** Each event's writer pid (from its data) and offset, per partition, in offset order. */
async function writersByOffset(topic: string): Promise<Map<number, { by: number; offset: number; id: string }[]>> {
  const admin = KafkaAdmin.connect(connection);
  const ends = await admin.endOffsets(topic, [...Array(partitions).keys()], 'read_committed');
  admin.disconnect();
  const consumer = await KafkaConsumer.connect(connection);
  consumer.assign([...Array(partitions).keys()].map((partition) => ({ topic, partition, offset: 0 })));
  const out = new Map<number, { by: number; offset: number; id: string }[]>();
  const done = () => consumer.positions([...Array(partitions).keys()].map((partition) => ({ topic, partition }))).every((p) => (ends.get(p.partition) ?? 0) === 0 || p.offset >= (ends.get(p.partition) ?? 0));
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

type Outcome = Extract<Report, { type: 'ack' } | { type: 'failed' }>;

/** Waits until the process is stopped (state T in /proc/<pid>/stat). */
async function stopped(pid: number): Promise<boolean> {
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
    if (processState(pid) === 'T') return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return false;
}

describe('I5: a paused owner is fenced', () => {
  const writers: WriterProcess[] = [];
  afterAll(async () => {
    for (const w of writers) w.kill('SIGCONT');
    await Promise.all(writers.map((w) => w.close()));
  });

  for (const moment of ['mid-batch', 'mid-commit'] satisfies FreezeMoment[]) {
    it(`I5: none of an owner's in-flight appends becomes visible after another process took over, the owner frozen ${moment}`, async () => {
      const store = `zombie-${randomUUID().slice(0, 8)}`;
      const topic = `${store}.events`;
      const streams = Array.from({ length: 8 }, (_, i) => `z-${i}`);
      const options = { brokers, store, partitions, sessionTimeoutMs, transactionTimeoutMs: 20_000, appendTimeoutMs: 20_000, ...(kafka ? { kafka } : {}) };
      const zombie = await WriterProcess.start({ ...options, dataDir: `.scribe/test/${store}/zombie` });
      writers.push(zombie);
      while ((await zombie.owned()).length < partitions) await new Promise((r) => setTimeout(r, 100));
      zombie.send({ cmd: 'race', streams, appenders: 8, appends: 1_000_000, retry: false });
      await new Promise((r) => setTimeout(r, 1_500));

      zombie.send({ cmd: 'freeze-at-commit', when: moment });
      expect(await stopped(zombie.pid), 'the owner stopped itself at a commit').toBe(true);
      const admin = KafkaAdmin.connect(connection);
      // Mid-batch, the events are in the log in an open transaction; mid-commit, the
      // coordinator may already have completed it.
      const openAtFreeze = await hasOpenTransaction(admin, topic, partitions);
      admin.disconnect();
      if (moment === 'mid-batch') expect(openAtFreeze, 'a transaction is open').toBe(true);
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
      const outcomes = inFlight.map((id) => zombie.reports.find((r): r is Outcome => (r.type === 'ack' || r.type === 'failed') && r.id === id)!);
      zombie.kill('SIGKILL');

      const log = await readEventsTopic(connection, topic);
      expect(log.violations).toEqual([]);
      for (const outcome of outcomes) {
        const stored = log.idCounts.get(outcome.id) ?? 0;
        // Acknowledged: committed before the takeover. Mid-commit, an outcome reported as
        // unknown may have committed: stored at most once. Any other failure: nowhere.
        if (outcome.type === 'ack') expect(stored).toBe(1);
        else if (moment === 'mid-commit' && outcome.code === 'APPEND_OUTCOME_UNKNOWN') expect(stored).toBeLessThanOrEqual(1);
        else expect(stored).toBe(0);
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
      const ended = outcomes.map((r) => (r.type === 'ack' ? 'acknowledged' : r.code));
      const counts = Object.fromEntries([...new Set(ended)].map((how) => [how, ended.filter((h) => h === how).length]));
      console.log(`${moment}: ${inFlight.length} appends in flight at the freeze (a transaction open: ${openAtFreeze}), then ${JSON.stringify(counts)}; takeover in ${takeoverMs} ms`);
    }, 240_000);
  }
});
