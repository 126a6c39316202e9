// I4: a retried append (same event ids) is applied at most once and returns the first
// result, also when the retry reaches a different owner.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { EventIdConflictError, EventStore } from '../../src/index.js';
import { readEventsTopic } from '../support/log-check.js';
import { owningAll } from '../support/ownership.js';

const brokers = inject('brokers');


describe('I4: idempotent appends', () => {
  const stores: EventStore[] = [];
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
  });

  it('I4: stores a retried append once and answers the retry with the first result', async () => {
    const name = `idem-${randomUUID().slice(0, 8)}`;
    const store = await EventStore.connect({ brokers, store: name, partitions: 2, dataDir: `.scribe/test/${name}` });
    stores.push(store);
    const events = [
      { id: randomUUID(), type: 'Deposited', data: { amount: 1 } },
      { id: randomUUID(), type: 'Deposited', data: { amount: 2 } },
    ];
    const first = await store.append('acc-1', events, { expectedVersion: 'no_stream' });
    // The retry states the same expected version, now stale: the ids, not the version, decide.
    const retry = await store.append('acc-1', events, { expectedVersion: 'no_stream' });
    expect(retry).toEqual(first);
    // Concurrent retries of a new append: one write, one answer for all.
    const third = [{ id: randomUUID(), type: 'Deposited', data: { amount: 3 } }];
    const answers = await Promise.all([1, 2, 3].map(() => store.append('acc-1', third, { expectedVersion: 1 })));
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]!.nextExpectedVersion).toBe(2);

    await expect(store.append('acc-1', [events[0]!, { id: randomUUID(), type: 'Deposited', data: {} }], { expectedVersion: 2 })).rejects.toBeInstanceOf(EventIdConflictError);
    await expect(store.append('acc-2', [events[0]!], { expectedVersion: 'any' })).rejects.toBeInstanceOf(EventIdConflictError);

    const log = await readEventsTopic(brokers, `${name}.events`);
    expect(log.violations).toEqual([]);
    expect(log.streams.get('acc-1')!.versions).toEqual([0, 1, 2]);
    expect(log.streams.has('acc-2')).toBe(false);
  });

  it('I4: answers a retry with the first result after the partition changed owner', async () => {
    const name = `idem-move-${randomUUID().slice(0, 8)}`;
    const first = await EventStore.connect({ brokers, store: name, partitions: 1, dataDir: `.scribe/test/${name}/a` });
    await owningAll(first);
    const ids = [randomUUID()];
    const original = await first.append('acc-9', [{ id: ids[0], type: 'Opened', data: {} }], { expectedVersion: 'no_stream' });
    await first.close();

    // A new process, with an empty index of its own, becomes the owner.
    const second = await EventStore.connect({ brokers, store: name, partitions: 1, dataDir: `.scribe/test/${name}/b` });
    stores.push(second);
    await owningAll(second);
    const retried = await second.append('acc-9', [{ id: ids[0], type: 'Opened', data: {} }], { expectedVersion: 'no_stream' });
    expect(retried).toEqual(original);
    const log = await readEventsTopic(brokers, `${name}.events`);
    expect(log.streams.get('acc-9')!.versions).toEqual([0]);
  });
});
