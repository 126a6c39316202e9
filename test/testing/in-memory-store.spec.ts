// What the in-memory store adds to the contract (test/features/): its options, stores that
// share events (`another`), and subscriptions' groups, starts and stops.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, TimeoutError, WrongExpectedVersionError, type Batch } from '../../src/index.js';
import { InMemoryEventStore } from '../../src/testing/index.js';

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; !check(); i++) {
    if (i > 1_000) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('InMemoryEventStore', () => {
  it('is healthy while open: it owns every partition, its writers are ready, its subscriptions report their lag', async () => {
    const store = new InMemoryEventStore({ partitions: 2 });
    await store.append('s-1', [{ type: 'A', data: {} }, { type: 'B', data: {} }], { expectedVersion: 'no_stream' });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const subscription = await store.subscribe({ name: 'slow', from: 'start' }, () => held);
    const health = await store.health();
    expect(health).toMatchObject({ ready: true, reasons: [], writer: true, ownedPartitions: [0, 1] });
    expect(health.writers).toEqual([{ partition: 0, state: 'ready', ready: true }, { partition: 1, state: 'ready', ready: true }]);
    // The handler holds the first event: the stream's partition has both events still to handle.
    const partition = store.partitionOf('s-1');
    expect(health.lag).toContainEqual({ subscription: 'slow', partition, events: 2, seconds: 0 });
    release();
    await subscription.stop();
    await store.close();
    expect(await store.health()).toMatchObject({ ready: false, reasons: ['the store is closed'], lag: [] });
  });

  it('refuses bad options naming them', () => {
    expect(() => new InMemoryEventStore({ partitions: 0 })).toThrow(InvalidArgumentError);
    expect(() => new InMemoryEventStore({ schemas: {} as never })).toThrow(/schemas: must be an EventSchemas/);
    expect(() => new InMemoryEventStore({ onUnknownEvent: 'ignore' as never })).toThrow(/onUnknownEvent/);
  });

  it('of racing appends at one expected version exactly one is stored (I2)', async () => {
    const store = new InMemoryEventStore();
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => store.append('race', [{ type: 'Won', data: { i } }], { expectedVersion: 'no_stream' })));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(WrongExpectedVersionError);
  });

  it('spreads streams over partitions by partition key, as on Kafka', async () => {
    const store = new InMemoryEventStore({ partitions: 4 });
    const result = await store.append('order-1', [{ type: 'Placed', data: {} }], { expectedVersion: 'any', partitionKey: 'customer-7' });
    expect(result.position.partition).toBe(store.partitionOf('customer-7'));
  });

  it('another() sees the same events and keeps its own deciders', async () => {
    const store = new InMemoryEventStore({ partitions: 2 });
    const other = store.another();
    await store.append('s', [{ type: 'A', data: {} }], { expectedVersion: 'no_stream' });
    await expect(other.append('s', [{ type: 'A', data: {} }], { expectedVersion: 'no_stream' })).rejects.toBeInstanceOf(WrongExpectedVersionError);
    await expect(other.execute('unknown-here', 's', {})).rejects.toMatchObject({ code: 'DECIDER_NOT_REGISTERED' });
  });

  it('subscriptions of one name share the partitions and resume at the checkpoint', async () => {
    const store = new InMemoryEventStore({ partitions: 4 });
    const seen: [string, number][] = [];
    const a = await store.subscribe({ name: 'g' }, (e) => void seen.push(['a', e.position.partition]));
    const b = await store.subscribe({ name: 'g' }, (e) => void seen.push(['b', e.position.partition]));
    for (let i = 0; i < 40; i++) await store.append(`s${i}`, [{ type: 'E', data: {} }], { expectedVersion: 'any' });
    await until(() => seen.length === 40);
    const partitionsOf = (member: string) => new Set(seen.filter(([m]) => m === member).map(([, p]) => p));
    expect([...partitionsOf('a')].some((p) => partitionsOf('b').has(p))).toBe(false);
    await b.stop();
    await store.append('late', [{ type: 'E', data: {} }], { expectedVersion: 'any' });
    await until(() => seen.length === 41);
    expect(seen[40]![0]).toBe('a');
    await a.stop();
  });

  it("starts at 'end' or just after given positions", async () => {
    const store = new InMemoryEventStore();
    const first = await store.append('s', [{ type: 'E', data: { n: 0 } }, { type: 'E', data: { n: 1 } }], { expectedVersion: 'no_stream' });
    const fromEnd: number[] = [];
    const afterFirst: number[] = [];
    const end = await store.subscribe({ from: 'end' }, (e) => void fromEnd.push(e.version));
    const positioned = await store.subscribe({ from: [{ partition: 0, offset: '0' }] }, (e) => void afterFirst.push(e.version));
    await store.append('s', [{ type: 'E', data: { n: 2 } }], { expectedVersion: first.nextExpectedVersion });
    await until(() => fromEnd.length === 1 && afterFirst.length === 2);
    expect(fromEnd).toEqual([2]);
    expect(afterFirst).toEqual([1, 2]);
    await Promise.all([end.stop(), positioned.stop()]);
  });

  it('stop() gives up on a handler that does not return within stopTimeoutMs', async () => {
    const store = new InMemoryEventStore();
    await store.append('s', [{ type: 'E', data: {} }], { expectedVersion: 'no_stream' });
    let entered = false;
    const stuck = await store.subscribe({ stopTimeoutMs: 20 }, () => {
      entered = true;
      return new Promise<void>(() => undefined);
    });
    await until(() => entered);
    await expect(stuck.stop()).rejects.toBeInstanceOf(TimeoutError);
    await expect(stuck.done).rejects.toBeInstanceOf(TimeoutError);
  });

  describe('batch subscriptions (what store.project runs on)', () => {
    const appendMany = async (store: InMemoryEventStore, from: number, count: number) => {
      for (let i = from; i < from + count; i++) await store.append(`s-${i % 5}`, [{ type: 'Counted', data: { i } }], { expectedVersion: 'any' });
    };
    const numbers = (batches: Batch[]) => batches.flatMap((b) => b.events).map((e) => (e.data as { i: number }).i).sort((a, b) => a - b);

    it('hands every event over once, in batches of at most maxBatchEvents with their checkpoints; a restart under the name resumes after them', async () => {
      const store = new InMemoryEventStore({ partitions: 3 });
      await appendMany(store, 0, 23);
      const batches: Batch[] = [];
      const first = await store.subscribeBatches({ name: 'counter', maxBatchEvents: 4 }, (batch) => void batches.push(batch));
      await until(() => numbers(batches).length === 23);
      await first.stop();
      expect(numbers(batches)).toEqual([...Array(23).keys()]);
      for (const batch of batches) {
        expect(batch.events.length).toBeLessThanOrEqual(4);
        for (const position of batch.checkpoint) {
          const mine = batch.events.filter((e) => e.position.partition === position.partition);
          expect(mine[mine.length - 1]!.position.offset).toBe(position.offset);
        }
      }
      await appendMany(store, 23, 6);
      const later: Batch[] = [];
      const second = await store.subscribeBatches({ name: 'counter' }, (batch) => void later.push(batch));
      await until(() => numbers(later).length === 6);
      await second.stop();
      expect(numbers(later)).toEqual([23, 24, 25, 26, 27, 28]);
    });

    it("shares the partitions under one name; starts at `from` ('end', positions) while no checkpoint is held", async () => {
      const store = new InMemoryEventStore({ partitions: 4 });
      await appendMany(store, 0, 20);
      const seen = new Map<string, number>();
      const count = (batch: Batch) => batch.events.forEach((e) => seen.set(e.id, (seen.get(e.id) ?? 0) + 1));
      const a = await store.subscribeBatches({ name: 'shared' }, count);
      const b = await store.subscribeBatches({ name: 'shared' }, count);
      await until(() => seen.size === 20 && a.partitions.length === 2 && b.partitions.length === 2);
      expect(a.partitions.filter((p) => b.partitions.includes(p))).toEqual([]);
      await Promise.all([a.stop(), b.stop()]);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);

      const tail: Batch[] = [];
      const fromEnd = await store.subscribeBatches({ name: 'tail', from: 'end' }, (batch) => void tail.push(batch));
      await appendMany(store, 20, 3);
      await until(() => numbers(tail).length === 3);
      await fromEnd.stop();
      expect(numbers(tail)).toEqual([20, 21, 22]);
      const refused = await store.subscribeBatches({ name: 'x', from: [{ partition: 9, offset: '0' }] }, () => undefined).then(() => undefined, (e: unknown) => e);
      expect(refused).toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'options.from[0].partition' });
    });

    it('says how far positions are behind the log', async () => {
      const store = new InMemoryEventStore({ partitions: 2 });
      await appendMany(store, 0, 10);
      const lag = await store.lag([]);
      expect(lag.map((l) => l.partition)).toEqual([0, 1]);
      expect(lag.reduce((n, l) => n + l.events, 0)).toBe(10);
      const caughtUp = await store.lag(lag.map((l) => ({ partition: l.partition, offset: String(Number(l.end) - 1) })));
      expect(caughtUp.every((l) => l.events === 0 && l.seconds === 0)).toBe(true);
      await expect(store.lag([{ partition: 5, offset: '0' }])).rejects.toMatchObject({ argument: 'checkpoint[0].partition' });
    });
  });
});
