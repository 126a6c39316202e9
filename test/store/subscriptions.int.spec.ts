// Subscriptions deliver every committed event once, in per-partition order, never one of an
// aborted transaction, from the start, the end or saved positions; a named subscription
// resumes after a restart from its checkpoint.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EventStore, type RecordedEvent } from '../../src/index.js';

const brokers = inject('brokers');
// With SCRIBE_TEST_KAFKA=secure (`npm run test:secure`), a secured broker: SASL_SSL, SCRAM-SHA-512, ACLs on.
const kafka = inject('kafka');
const secured = kafka ? { kafka } : {};

async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('subscriptions', () => {
  const name = `subs-${randomUUID().slice(0, 8)}`;
  let store: EventStore;

  beforeAll(async () => {
    store = await EventStore.connect({ brokers, ...secured, store: name, partitions: 3, dataDir: `.scribe/test/${name}` });
    for (let i = 0; i < 30; i++) await store.append(`s-${i % 6}`, [{ type: 'Counted', data: { i } }], { expectedVersion: 'any' });
  });
  afterAll(() => store?.close());

  it('delivers every committed event once, in per-partition and per-stream order, catch-up then live', async () => {
    const seen: RecordedEvent[] = [];
    const sub = await store.subscribe({ from: 'start' }, (e) => {
      seen.push(e);
    });
    await until(() => seen.length === 30);
    for (let i = 30; i < 40; i++) await store.append(`s-${i % 6}`, [{ type: 'Counted', data: { i } }], { expectedVersion: 'any' });
    await until(() => seen.length === 40);
    await sub.stop();

    expect(new Set(seen.map((e) => e.id)).size).toBe(40);
    for (const partition of [0, 1, 2]) {
      const offsets = seen.filter((e) => e.position.partition === partition).map((e) => Number(e.position.offset));
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
    for (let s = 0; s < 6; s++) {
      expect(seen.filter((e) => e.streamId === `s-${s}`).map((e) => e.version)).toEqual([...Array(seen.filter((e) => e.streamId === `s-${s}`).length).keys()]);
    }
  });

  it("starts at the end: only events appended after it started", async () => {
    const seen: RecordedEvent[] = [];
    const sub = await store.subscribe({ from: 'end' }, (e) => {
      seen.push(e);
    });
    await new Promise((r) => setTimeout(r, 500));
    await store.append('after-end', [{ type: 'Late', data: {} }], { expectedVersion: 'no_stream' });
    await until(() => seen.length === 1);
    await sub.stop();
    expect(seen[0]!.streamId).toBe('after-end');
  });

  it('starts just after saved positions', async () => {
    const first: RecordedEvent[] = [];
    const sub = await store.subscribe({ from: 'start' }, (e) => {
      first.push(e);
    });
    await until(() => first.length >= 41);
    await sub.stop();
    const saved = sub.lastPositions;
    await store.append('after-saved', [{ type: 'New', data: {} }], { expectedVersion: 'no_stream' });
    const resumed: RecordedEvent[] = [];
    const again = await store.subscribe({ from: saved }, (e) => {
      resumed.push(e);
    });
    await until(() => resumed.length === 1);
    await new Promise((r) => setTimeout(r, 300));
    await again.stop();
    expect(resumed.map((e) => e.streamId)).toEqual(['after-saved']);
  });

  it('resumes a named subscription from its checkpoint after a restart', async () => {
    const before: RecordedEvent[] = [];
    const sub = await store.subscribe({ name: 'projection', from: 'start' }, (e) => {
      before.push(e);
    });
    await until(() => before.length === 42);
    await sub.stop();

    await store.append('while-down', [{ type: 'Missed', data: {} }], { expectedVersion: 'no_stream' });
    // A new process: same store, same subscription name.
    const restarted = await EventStore.connect({ brokers, ...secured, store: name, writer: false, dataDir: `.scribe/test/${name}-restarted` });
    const after: RecordedEvent[] = [];
    const resumed = await restarted.subscribe({ name: 'projection', from: 'start' }, (e) => {
      after.push(e);
    });
    await until(() => after.length === 1);
    await new Promise((r) => setTimeout(r, 500));
    await resumed.stop();
    await restarted.close();
    expect(after.map((e) => e.streamId)).toEqual(['while-down']);
  });

  it('stops with the handler error and does not checkpoint past the failing event', async () => {
    const sub = await store.subscribe({ name: 'failing', from: 'start' }, (e) => {
      if (e.streamId === 's-3' && e.version === 2) throw new Error('projection bug');
    });
    await expect(sub.done).rejects.toThrow('projection bug');
    const seen: RecordedEvent[] = [];
    const retry = await store.subscribe({ name: 'failing', from: 'start' }, (e) => {
      seen.push(e);
    });
    await until(() => seen.some((e) => e.streamId === 's-3' && e.version === 2));
    await retry.stop();
  });
});
