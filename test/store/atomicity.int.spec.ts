// I3: an acknowledged append is durable and visible to read_committed readers, and nothing
// of an aborted transaction is ever seen. The failures are real ones, raised by the broker
// after the events of a transaction were produced and before its commit.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AppendOutcomeUnknownError, EventStore, InvalidEventError, StreamNotFoundError, type RecordedEvent } from '../../src/index.js';
import { KafkaAdmin, KafkaConsumer } from '../../src/kafka/index.js';
import { readEventsTopic } from '../support/log-check.js';
import { owningAll } from '../support/ownership.js';

const brokers = inject('brokers');

/** Event ids in the partition as a read_uncommitted reader sees them: aborted records too. */
async function idsIncludingAborted(topic: string): Promise<string[]> {
  const admin = KafkaAdmin.connect({ brokers });
  const end = (await admin.endOffsets(topic, [0])).get(0) ?? 0;
  admin.disconnect();
  const consumer = await KafkaConsumer.connect({ brokers, isolation: 'read_uncommitted' });
  consumer.assign([{ topic, partition: 0, offset: 0 }]);
  const ids: string[] = [];
  while ((consumer.positions([{ topic, partition: 0 }])[0]?.offset ?? -1) < end) {
    for (const m of await consumer.consume(1000, 100)) {
      const id = m.headers?.find((h) => h['scribe.id'] !== undefined)?.['scribe.id'];
      if (id) ids.push(id.toString());
    }
  }
  await consumer.disconnect();
  return ids;
}

async function readAll(store: EventStore, streamId: string): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of store.readStream(streamId)) out.push(e);
  return out;
}


describe('I3: atomic, durable appends', () => {
  const stores: EventStore[] = [];
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
  });

  it('I3: a failure after the events were produced and before the commit leaves nothing visible and nothing in the index', async () => {
    const name = `atomic-${randomUUID().slice(0, 8)}`;
    const admin = KafkaAdmin.connect({ brokers });
    // The owner's reply to a remote append goes in the same transaction as its events; this
    // replies topic refuses every reply (about 250 bytes) but still takes the broker's
    // transaction markers (about 80), so each such transaction fails after its events
    // reached the log and is aborted cleanly.
    await admin.createTopic({ name: `${name}.replies`, partitions: 1, replicationFactor: 1, config: { 'max.message.bytes': '150' } });
    admin.disconnect();
    const owner = await EventStore.connect({ brokers, store: name, partitions: 1, dataDir: `.scribe/test/${name}/owner` });
    stores.push(owner);
    await owningAll(owner);
    const requester = await EventStore.connect({ brokers, store: name, writer: false, appendTimeoutMs: 6_000, dataDir: `.scribe/test/${name}/requester` });
    stores.push(requester);

    const id = randomUUID();
    const error = await requester.append('doomed', [{ id, type: 'Deposited', data: { amount: 1 } }], { expectedVersion: 'no_stream' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppendOutcomeUnknownError);

    // The events were written to the log, in transactions that were aborted...
    expect((await idsIncludingAborted(`${name}.events`)).filter((x) => x === id).length).toBeGreaterThan(0);
    // ...and no read_committed reader sees them, nor the index.
    const log = await readEventsTopic(brokers, `${name}.events`);
    expect(log.idCounts.has(id)).toBe(false);
    await expect(readAll(owner, 'doomed')).rejects.toBeInstanceOf(StreamNotFoundError);
    await expect(readAll(requester, 'doomed')).rejects.toBeInstanceOf(StreamNotFoundError);

    // The owner is not stuck: a fast-path append commits.
    const ok = await owner.append('fine', [{ type: 'Opened', data: {} }], { expectedVersion: 'no_stream' });
    expect(ok.nextExpectedVersion).toBe(0);
    expect((await readAll(requester, 'fine')).length).toBe(1);
  });

  it('I3: an append larger than the topic accepts is refused on its own; the appends batched with it are stored once', async () => {
    const name = `atomic-big-${randomUUID().slice(0, 8)}`;
    const admin = KafkaAdmin.connect({ brokers });
    await admin.createTopic({ name: `${name}.events`, partitions: 1, replicationFactor: 1, config: { 'max.message.bytes': '10000' } });
    admin.disconnect();
    const store = await EventStore.connect({ brokers, store: name, dataDir: `.scribe/test/${name}` });
    stores.push(store);
    await owningAll(store);

    // Keep the writer busy so the next appends queue up and share one transaction.
    const warmUp = store.append('warm-up', [{ type: 'W', data: {} }], { expectedVersion: 'any' });
    const small = Array.from({ length: 10 }, (_, i) => ({ stream: `small-${i}`, id: randomUUID() }));
    const appends = small.map(({ stream, id }) => store.append(stream, [{ id, type: 'Small', data: { i: stream } }], { expectedVersion: 'no_stream' }));
    const big = store.append('too-big', [{ type: 'Big', data: 'x'.repeat(20_000) }], { expectedVersion: 'no_stream' }).catch((e: unknown) => e);
    await warmUp;

    expect(await big).toBeInstanceOf(InvalidEventError);
    const results = await Promise.all(appends);
    expect(results.every((r) => r.nextExpectedVersion === 0)).toBe(true);
    const log = await readEventsTopic(brokers, `${name}.events`);
    expect(log.violations).toEqual([]);
    for (const { id } of small) expect(log.idCounts.get(id)).toBe(1);
    expect(log.streams.has('too-big')).toBe(false);
    await expect(readAll(store, 'too-big')).rejects.toBeInstanceOf(StreamNotFoundError);
    expect((await readAll(store, 'small-3')).map((e) => e.id)).toEqual([small[3]!.id]);
  });
});
