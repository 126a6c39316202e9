// Online growth (issue 6, docs/decisions/0005-online-growth.md): a live store gets more
// partitions while writers race, subscribers follow and aggregates load; every stream keeps
// its exact history in order, across the partitions it now spans.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { account } from '../../examples/bank-account.js';
import { EventStore, type RecordedEvent, type KafkaEventStore } from '../../src/index.js';
import { expectExactlyTheAcknowledged, readEventsTopic } from '../support/log-check.js';
import { WriterProcess } from '../support/writer-processes.js';
import { validateKafkaSecurity, type KafkaConnection } from '../../src/kafka/index.js';

const brokers = inject('brokers');
// With SCRIBE_TEST_KAFKA=secure (`npm run test:secure`), a secured broker: SASL_SSL, SCRAM-SHA-512, ACLs on.
const kafka = inject('kafka');
const secured = kafka ? { kafka } : {};
const security = validateKafkaSecurity(kafka);
const connection: KafkaConnection = { brokers, ...(security ? { security } : {}) };
// On the secured broker (`npm run test:secure`, a CI time budget of minutes) only the scenarios
// that take every kind of client through growth run: subscriber, reads, commands, snapshots.
// Racing writer processes and killed ones test growth's own logic, which security leaves as it is.
const onPlainBroker = kafka === undefined ? it : it.skip;

/** A store handle in the test process; `writer: false` ones send everything to the writer processes. */
function connect(store: string, options: { partitions?: number; writer?: boolean } = {}): Promise<KafkaEventStore> {
  return EventStore.connect({ brokers, ...secured, store, partitions: options.partitions ?? 4, writer: options.writer ?? true, sessionTimeoutMs: 6_000, dataDir: `.scribe/test/${store}/t-${randomUUID().slice(0, 6)}` });
}

async function readAll(store: KafkaEventStore, streamId: string): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const event of store.readStream(streamId)) events.push(event);
  return events;
}

describe('online growth', () => {
  const open: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    await Promise.all(open.map((o) => o.close()));
  });

  onPlainBroker('I1 + I2 hold when the store grows from 4 to 12 partitions in the middle of racing writers', async () => {
    const name = `grow-race-${randomUUID().slice(0, 8)}`;
    const writers = await Promise.all([0, 1, 2].map((i) => WriterProcess.start({ brokers, ...secured, store: name, partitions: 4, sessionTimeoutMs: 6_000, dataDir: `.scribe/test/${name}/w${i}` })));
    open.push(...writers);
    const operator = await connect(name, { writer: false });
    open.push(operator);
    const streams = Array.from({ length: 50 }, (_, i) => `race-${i}`);
    const perProcess = 2_000;
    const racing = Promise.all(writers.map((w) => w.request({ cmd: 'race', streams, appenders: 6, appends: perProcess }, (r) => r.type === 'race-done', 600_000)));

    // Grow once a quarter of the appends are in.
    const acked = () => writers.flatMap((w) => w.reports.flatMap((r) => (r.type === 'ack' ? [r] : [])));
    while (acked().length < (perProcess * writers.length) / 4) await new Promise((r) => setTimeout(r, 50));
    const pauses: number[] = [];
    const grown = await operator.grow(12, { onProgress: (p) => p.completed && pauses.push(p.completed.pauseMs) });
    const ackedWhenGrown = acked().length;
    await racing;

    expect(grown.moves).toHaveLength(8);
    expect(pauses).toHaveLength(8);
    expect(ackedWhenGrown).toBeLessThan(perProcess * writers.length); // the race went on after the growth
    expect(operator.partitions).toBe(12);
    const log = await readEventsTopic(connection, `${name}.events`);
    expectExactlyTheAcknowledged(log, acked());
    // The race crossed the growth: streams now span their old and their new partition.
    const moved = [...log.streams.values()].filter((h) => h.partitions.length === 2);
    expect(moved.length).toBeGreaterThan(0);
    expect(log.markers.filter((m) => m.kind === 'seal')).toHaveLength(8);
    expect(log.markers.filter((m) => m.kind === 'open')).toHaveLength(8);
    // Scribe's own reader agrees with the independent one, across partitions.
    for (const streamId of streams) {
      expect((await readAll(operator, streamId)).map((e) => e.id)).toEqual(log.streams.get(streamId)!.ids);
    }
    expect((await operator.routingStatus()).pending).toEqual([]);
  }, 900_000);

  it('a live subscriber sees every stream in order while its history moves to new partitions', async () => {
    const name = `grow-sub-${randomUUID().slice(0, 8)}`;
    const store = await connect(name, { partitions: 3 });
    open.push(store);
    const seen = new Map<string, number[]>();
    const durable = new Map<string, number[]>();
    const record = (into: Map<string, number[]>) => (event: RecordedEvent) => {
      into.set(event.streamId, [...(into.get(event.streamId) ?? []), event.version]);
    };
    const subscription = await store.subscribe({ from: 'start' }, record(seen));
    const named = await store.subscribe({ from: 'end', name: 'audit' }, record(durable));
    const ended: string[] = [];
    void subscription.done.catch((error: unknown) => ended.push(`anonymous: ${String(error)}`));
    void named.done.catch((error: unknown) => ended.push(`named: ${String(error)}`));
    const streams = Array.from({ length: 60 }, (_, i) => `sub-${i}`);
    const versions = new Map<string, number>();
    let appending = true;
    const appender = async () => {
      while (appending) {
        const streamId = streams[Math.floor(Math.random() * streams.length)]!;
        const version = versions.get(streamId) ?? -1;
        versions.set(streamId, version + 1); // one appender per stream at a time is not needed: 'any' below
        await store.append(streamId, [{ type: 'Ticked', data: {} }], { expectedVersion: 'any' });
      }
    };
    const appenders = Promise.all(Array.from({ length: 8 }, appender));
    await new Promise((r) => setTimeout(r, 1_500));
    await store.grow(6);
    await new Promise((r) => setTimeout(r, 1_500));
    appending = false;
    await appenders;

    const total = [...versions.values()].reduce((sum, v) => sum + v + 1, 0);
    const count = (m: Map<string, number[]>) => [...m.values()].reduce((sum, v) => sum + v.length, 0);
    const deadline = Date.now() + 60_000;
    while ((count(seen) < total || count(durable) < total) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(ended, 'no subscription ended on an error').toEqual([]);
    expect({ anonymous: count(seen), named: count(durable) }).toEqual({ anonymous: total, named: total });
    for (const [streamId, last] of versions) {
      const expected = Array.from({ length: last + 1 }, (_, i) => i);
      expect(seen.get(streamId), streamId).toEqual(expected);
      expect(durable.get(streamId), streamId).toEqual(expected);
    }
    const log = await readEventsTopic(connection, `${name}.events`);
    expect(log.violations).toEqual([]);
    expect([...log.streams.values()].some((h) => h.partitions.length === 2)).toBe(true);
    await subscription.stop();
    await named.stop();
  }, 300_000);

  it('grows twice in a row (2 -> 4 -> 6); reads, commands and snapshots see whole histories', async () => {
    const name = `grow-twice-${randomUUID().slice(0, 8)}`;
    const store = await connect(name, { partitions: 2 });
    open.push(store);
    store.register('account', { ...account, snapshot: { every: 3 } });
    const streams = Array.from({ length: 24 }, (_, i) => `acc-${i}`);
    for (const streamId of streams) await store.execute('account', streamId, { type: 'Open', owner: streamId });
    const deposit = async (rounds: number) => {
      for (let round = 0; round < rounds; round++) await Promise.all(streams.map((streamId) => store.execute('account', streamId, { type: 'Deposit', amount: 1 })));
    };
    await deposit(4);
    const during = deposit(4);
    const first = await store.grow(4);
    await during;
    await deposit(4);
    const second = await store.grow(6);
    await deposit(4);

    expect(first.moves).toHaveLength(2); // 0->2, 1->3
    expect(second.moves.length).toBeGreaterThan(0);
    expect((await store.routingStatus()).generations).toEqual([2, 4, 6]);
    const log = await readEventsTopic(connection, `${name}.events`);
    expect(log.violations).toEqual([]);
    for (const streamId of streams) {
      const events = await readAll(store, streamId);
      expect(events.map((e) => e.version)).toEqual(Array.from({ length: 17 }, (_, i) => i));
      expect(events.map((e) => e.id)).toEqual(log.streams.get(streamId)!.ids);
      const loaded = await store.load(account, streamId);
      expect(loaded.state.balance).toBe(16);
      expect(loaded.version).toBe(16);
    }
    // Another process, with an index of its own, reads the same histories.
    const reader = await connect(name, { writer: false });
    open.push(reader);
    for (const streamId of streams.slice(0, 6)) expect((await readAll(reader, streamId)).map((e) => e.id)).toEqual(log.streams.get(streamId)!.ids);
  }, 300_000);

  onPlainBroker('a writer killed in the middle of the hand-overs: growth completes, nothing lost, nothing duplicated', async () => {
    const name = `grow-crash-${randomUUID().slice(0, 8)}`;
    const writers = await Promise.all([0, 1].map((i) => WriterProcess.start({ brokers, ...secured, store: name, partitions: 4, sessionTimeoutMs: 6_000, dataDir: `.scribe/test/${name}/w${i}` })));
    open.push(...writers);
    const operator = await connect(name, { writer: false });
    open.push(operator);
    const streams = Array.from({ length: 30 }, (_, i) => `crash-${i}`);
    const survivor = writers[1]!;
    const racing = survivor.request({ cmd: 'race', streams, appenders: 4, appends: 1_500 }, (r) => r.type === 'race-done', 600_000);
    writers[0]!.send({ cmd: 'race', streams, appenders: 4, appends: 100_000 });
    await new Promise((r) => setTimeout(r, 1_000));

    let killed = false;
    const grown = await operator.grow(8, {
      concurrency: 1,
      moveTimeoutMs: 60_000,
      onProgress: (p) => {
        if (p.moved >= 1 && !killed) {
          killed = true;
          writers[0]!.kill('SIGKILL');
        }
      },
    });
    await racing;

    expect(killed).toBe(true);
    expect(grown.moves).toHaveLength(4);
    const log = await readEventsTopic(connection, `${name}.events`);
    expect(log.violations).toEqual([]);
    // Every acknowledged append is there once, at its version; the killed writer's unacknowledged ones at most once.
    for (const w of writers) {
      for (const report of w.reports) {
        if (report.type !== 'ack') continue;
        expect(log.idCounts.get(report.id)).toBe(1);
        expect(log.streams.get(report.streamId)!.ids[report.version]).toBe(report.id);
      }
    }
    expect(log.markers.filter((m) => m.kind === 'open')).toHaveLength(4);
  }, 600_000);

  onPlainBroker('the process running grow is killed after its first shard move: appends go on, and grow run again finishes the moves', async () => {
    const name = `grow-resume-${randomUUID().slice(0, 8)}`;
    const writer = await WriterProcess.start({ brokers, ...secured, store: name, partitions: 3, sessionTimeoutMs: 6_000, dataDir: `.scribe/test/${name}/w` });
    open.push(writer);
    const operator = await WriterProcess.start({ brokers, ...secured, store: name, partitions: 3, writer: false, dataDir: `.scribe/test/${name}/op` });
    const streams = Array.from({ length: 30 }, (_, i) => `resume-${i}`);
    const racing = writer.request({ cmd: 'race', streams, appenders: 4, appends: 1_500 }, (r) => r.type === 'race-done', 600_000);

    // Growing 3 to 9 makes 6 moves; the operator dies right after the first one completes.
    await operator.request({ cmd: 'grow', partitions: 9 }, (r) => r.type === 'moved');
    operator.kill('SIGKILL');
    await operator.exited;
    const observer = await connect(name, { writer: false });
    open.push(observer);
    const interrupted = await observer.routingStatus();
    expect(interrupted.generations).toEqual([3, 9]);
    expect(interrupted.pending.length).toBeGreaterThan(0);
    expect(interrupted.pending.length).toBeLessThan(6);

    // Asked for another count, grow refuses; asked for the same, it finishes.
    await expect(observer.grow(12)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const finished = await observer.grow(9);
    expect(finished.moves).toHaveLength(6);
    expect((await observer.routingStatus()).pending).toEqual([]);
    await racing;

    const log = await readEventsTopic(connection, `${name}.events`);
    expectExactlyTheAcknowledged(log, writer.reports.flatMap((r) => (r.type === 'ack' ? [r] : [])));
    expect(log.markers.filter((m) => m.kind === 'seal')).toHaveLength(6);
  }, 300_000);
});
