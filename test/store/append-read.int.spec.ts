// Appending and reading one store from one process: versions, optimistic concurrency and
// idempotent retries as a caller sees them.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EventStore, StreamNotFoundError, WrongExpectedVersionError, type RecordedEvent, type KafkaEventStore } from '../../src/index.js';

const brokers = inject('brokers');
// With SCRIBE_TEST_KAFKA=secure (`npm run test:secure`), a secured broker: SASL_SSL, SCRAM-SHA-512, ACLs on.
const kafka = inject('kafka');
const secured = kafka ? { kafka } : {};

async function collect(iterable: AsyncIterable<RecordedEvent>): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of iterable) out.push(e);
  return out;
}

describe('an event store in one process', () => {
  let store: KafkaEventStore;
  const name = `single-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    store = await EventStore.connect({ brokers, ...secured, store: name, partitions: 3, dataDir: `.scribe/test/${randomUUID()}` });
  });
  afterAll(() => store?.close());

  it('numbers a new stream from version 0 and reads it back in order', async () => {
    const first = await store.append('account-1', [{ type: 'Opened', data: { owner: 'ada' } }], { expectedVersion: 'no_stream' });
    expect(first.nextExpectedVersion).toBe(0);
    const second = await store.append('account-1', [{ type: 'Deposited', data: { amount: 5 } }, { type: 'Deposited', data: { amount: 7 } }], { expectedVersion: 0 });
    expect(second.nextExpectedVersion).toBe(2);
    expect(second.position.partition).toBe(store.partitionOf('account-1'));

    const events = await collect(store.readStream('account-1'));
    expect(events.map((e) => [e.version, e.type, e.data])).toEqual([
      [0, 'Opened', { owner: 'ada' }],
      [1, 'Deposited', { amount: 5 }],
      [2, 'Deposited', { amount: 7 }],
    ]);
    expect(events[2]!.position).toEqual(second.position);
    const backwards = await collect(store.readStream('account-1', { direction: 'backwards', maxCount: 2 }));
    expect(backwards.map((e) => e.version)).toEqual([2, 1]);
  });

  it('rejects a stale expected version with the actual version and stores nothing', async () => {
    await store.append('account-2', [{ type: 'Opened', data: {} }], { expectedVersion: 'no_stream' });
    const error = await store.append('account-2', [{ type: 'Deposited', data: { amount: 1 } }], { expectedVersion: 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WrongExpectedVersionError);
    expect(error).toMatchObject({ code: 'WRONG_EXPECTED_VERSION', streamId: 'account-2', expected: 5, actual: 0 });
    await expect(store.append('account-2', [{ type: 'Opened', data: {} }], { expectedVersion: 'no_stream' })).rejects.toBeInstanceOf(WrongExpectedVersionError);
    expect((await collect(store.readStream('account-2'))).length).toBe(1);
  });

  it('answers a missing stream with StreamNotFoundError', async () => {
    await expect(collect(store.readStream('never-written'))).rejects.toBeInstanceOf(StreamNotFoundError);
  });

  it('reads its own writes from a process that owns nothing: every acknowledged append is in its next read', async () => {
    const client = await EventStore.connect({ brokers, ...secured, store: name, partitions: 3, writer: false, dataDir: `.scribe/test/${randomUUID()}` });
    try {
      for (let version = 0; version < 50; version++) {
        const { nextExpectedVersion } = await client.append('account-ryw', [{ type: 'Deposited', data: { amount: version } }], { expectedVersion: version - 1 < 0 ? 'no_stream' : version - 1 });
        const read = await collect(client.readStream('account-ryw', { direction: 'backwards', maxCount: 1 }));
        expect(read[0]?.version).toBe(nextExpectedVersion);
      }
    } finally {
      await client.close();
    }
  });
});
