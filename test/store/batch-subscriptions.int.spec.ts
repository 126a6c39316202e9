// Batch subscriptions hand over every committed event in batches bounded by count, each with
// its checkpoint; with the default checkpoint store (the Kafka consumer group) a restart
// resumes after the last committed batch, and processes under one name share the partitions.
// Without a checkpoint a partition starts at the subscription's `from`.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EventStore, type AppendResult, type KafkaEventStore, type Batch } from '../../src/index.js';

const brokers = inject('brokers');

async function until(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('batch subscriptions', () => {
  const name = `batches-${randomUUID().slice(0, 8)}`;
  let store: KafkaEventStore;

  beforeAll(async () => {
    store = await EventStore.connect({ brokers, store: name, partitions: 3, dataDir: `.scribe/test/${name}` });
    for (let i = 0; i < 30; i++) await store.append(`s-${i % 6}`, [{ type: 'Counted', data: { i } }], { expectedVersion: 'any' });
  });
  afterAll(() => store?.close());

  it('hands every event over once in batches of at most maxBatchEvents, each with the last position per partition; a restart resumes after the committed batches', async () => {
    const batches: Batch[] = [];
    const first = await store.subscribeBatches({ name: 'counter', maxBatchEvents: 4 }, (batch) => {
      batches.push(batch);
    });
    await until(() => batches.flatMap((b) => b.events).length === 30);
    await first.stop();
    const events = batches.flatMap((b) => b.events);
    expect(new Set(events.map((e) => e.id)).size).toBe(30);
    for (const batch of batches) {
      expect(batch.events.length).toBeLessThanOrEqual(4);
      for (const position of batch.checkpoint) {
        const mine = batch.events.filter((e) => e.position.partition === position.partition);
        if (mine.length > 0) expect(mine[mine.length - 1]!.position.offset).toBe(position.offset);
      }
    }

    for (let i = 30; i < 40; i++) await store.append(`s-${i % 6}`, [{ type: 'Counted', data: { i } }], { expectedVersion: 'any' });
    const later: Batch[] = [];
    const second = await store.subscribeBatches({ name: 'counter' }, (batch) => {
      later.push(batch);
    });
    await until(() => later.flatMap((b) => b.events).length >= 10);
    await new Promise((r) => setTimeout(r, 500));
    await second.stop();
    expect(later.flatMap((b) => b.events).map((e) => (e.data as { i: number }).i).sort((a, b) => a - b)).toEqual([...Array(10).keys()].map((i) => i + 30));
  });

  it('hands batches over one at a time and in per-partition order while the reader reads ahead, a slow handler included', async () => {
    let running = 0;
    let most = 0;
    const handled: Batch[] = [];
    const slow = await store.subscribeBatches({ name: 'one-at-a-time', maxBatchEvents: 3 }, async (batch) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 30));
      handled.push(batch);
      running--;
    });
    await until(() => handled.flatMap((b) => b.events).length >= 30);
    await slow.stop();
    expect(most).toBe(1);
    const last = new Map<number, bigint>();
    for (const event of handled.flatMap((b) => b.events)) {
      const { partition, offset } = event.position;
      expect(BigInt(offset) > (last.get(partition) ?? -1n), `partition ${partition} at ${offset}`).toBe(true);
      last.set(partition, BigInt(offset));
    }
  });

  it('processes subscribing under one name share the partitions: each event is handed to one of them', async () => {
    const seen = new Map<string, number>();
    const handler = (batch: Batch) => {
      for (const e of batch.events) seen.set(e.id, (seen.get(e.id) ?? 0) + 1);
    };
    const a = await store.subscribeBatches({ name: 'shared' }, handler);
    const b = await store.subscribeBatches({ name: 'shared' }, handler);
    await until(() => seen.size >= 30 && a.partitions.length + b.partitions.length === 3);
    expect(a.partitions.filter((p) => b.partitions.includes(p))).toEqual([]);
    await Promise.all([a.stop(), b.stop()]);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  });
  it("starts where `from` says while the checkpoint store holds nothing: 'end', or just after given positions; a checkpoint held wins", async () => {
    const fresh = `from-${randomUUID().slice(0, 8)}`;
    const own = await EventStore.connect({ brokers, store: fresh, partitions: 2, dataDir: `.scribe/test/${fresh}` });
    try {
      const appended: AppendResult[] = [];
      for (let i = 0; i < 8; i++) appended.push(await own.append(`s-${i % 4}`, [{ type: 'Counted', data: { i } }], { expectedVersion: 'any' }));
      const data = (batches: Batch[]) => batches.flatMap((b) => b.events).map((e) => (e.data as { i: number }).i).sort((a, b) => a - b);

      // 'end': only what is appended once the subscription has started.
      const fromEnd: Batch[] = [];
      const tail = await own.subscribeBatches({ name: 'tail', from: 'end' }, (batch) => void fromEnd.push(batch));
      for (let i = 8; i < 12; i++) await own.append(`s-${i % 4}`, [{ type: 'Counted', data: { i } }], { expectedVersion: 'any' });
      await until(() => data(fromEnd).length === 4);
      await tail.stop();
      expect(data(fromEnd)).toEqual([8, 9, 10, 11]);

      // Positions: each listed partition just after its position, the others from their first event.
      const at = appended[3]!.position;
      const expected = [...Array(12).keys()].filter((i) => i >= 8 || appended[i]!.position.partition !== at.partition || BigInt(appended[i]!.position.offset) > BigInt(at.offset));
      const fromPositions: Batch[] = [];
      const after = await own.subscribeBatches({ name: 'after', from: [at] }, (batch) => void fromPositions.push(batch));
      await until(() => data(fromPositions).length === expected.length);
      await new Promise((r) => setTimeout(r, 300));
      await after.stop();
      expect(data(fromPositions)).toEqual(expected);

      // The group 'tail' has checkpoints now: `from` no longer applies to it.
      await own.append('s-0', [{ type: 'Counted', data: { i: 12 } }], { expectedVersion: 'any' });
      const resumed: Batch[] = [];
      const again = await own.subscribeBatches({ name: 'tail', from: [{ partition: 0, offset: '0' }, { partition: 1, offset: '0' }] }, (batch) => void resumed.push(batch));
      await until(() => data(resumed).length >= 1);
      await new Promise((r) => setTimeout(r, 300));
      await again.stop();
      expect(data(resumed)).toEqual([12]);

      const refused = await own.subscribeBatches({ name: 'x', from: [{ partition: 5, offset: '0' }] }, () => undefined).then(() => undefined, (e: unknown) => e);
      expect(refused).toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'options.from[0].partition' });
    } finally {
      await own.close();
    }
  });

  it('refuses bad options naming the argument, before anything connects', async () => {
    const handler = () => undefined;
    const argument = async (call: Promise<unknown>) => ((await call.then(() => undefined, (e: unknown) => e)) as { code?: string; argument?: string });
    expect(await argument(store.subscribeBatches({} as never, handler))).toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'options.name' });
    expect(await argument(store.subscribeBatches({ name: 'x', maxBatchEvents: 0 }, handler))).toMatchObject({ argument: 'options.maxBatchEvents' });
    expect(await argument(store.subscribeBatches({ name: 'x', checkpoints: {} as never }, handler))).toMatchObject({ argument: 'options.checkpoints' });
    expect(await argument(store.subscribeBatches({ name: 'x' }, 'no' as never))).toMatchObject({ argument: 'handler' });
    expect(await argument(store.lag([{ partition: 0, offset: '-1' }]))).toMatchObject({ argument: 'checkpoint[0].offset' });
    expect(await argument(store.lag([{ partition: 7, offset: '1' }]))).toMatchObject({ argument: 'checkpoint[0].partition' });
  });

  it('says how far positions are behind the log: records not handled and the age of the oldest', async () => {
    const lag = await store.lag([]);
    expect(lag.map((l) => l.partition)).toEqual([0, 1, 2]);
    const total = lag.reduce((n, l) => n + l.events, 0);
    expect(total).toBeGreaterThanOrEqual(40);
    for (const l of lag) if (l.events > 0) expect(l.seconds).toBeGreaterThan(0);
    const caughtUp = await store.lag(lag.map((l) => ({ partition: l.partition, offset: String(Number(l.end) - 1) })));
    expect(caughtUp.every((l) => l.events === 0 && l.seconds === 0)).toBe(true);
  });
});
