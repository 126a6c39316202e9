// Batch subscriptions hand over every committed event in batches bounded by count, each with
// its checkpoint; with the default checkpoint store (the Kafka consumer group) a restart
// resumes after the last committed batch, and processes under one name share the partitions.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EventStore, type Batch } from '../../src/index.js';

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
  let store: EventStore;

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
});
